#include "client/spec_file.h"

#include "client/output.h"
#include "google/protobuf/util/message_differencer.h"

#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simclr::client {
namespace {

using ::testing::HasSubstr;

// The pipeline of the job-spec contract, exactly as users write it.
constexpr char kContract[] = R"(name: fmnist-pretrain
kind: pretrain              # pretrain | finetune | distill | linear_eval
world_size: 2
priority: 0
model: {depth: 18, width_multiplier: 0.25, sk_ratio: 0, proj_head_layers: 3, proj_dim: 64}
data: {dataset: fashion-mnist, path: /usr/share/datasets/fashion-mnist}
optimizer: {name: lars, base_lr: 0.3, lr_scaling: linear, weight_decay: 1.0e-6, momentum: 0.9, warmup_epochs: 0.1}
train: {batch_size: 128, epochs: 1, max_steps: 8, temperature: 0.2, precision: fp32, seed: 7, checkpoint_every_steps: 4}
---
name: fmnist-finetune-1pct
kind: finetune
parent: fmnist-pretrain
world_size: 1
data: {dataset: fashion-mnist, path: /usr/share/datasets/fashion-mnist, label_fraction: 0.01}
finetune: {from_head_layer: 1}
optimizer: {name: lars, base_lr: 0.005, lr_scaling: sqrt, weight_decay: 0}
train: {batch_size: 64, epochs: 2, seed: 7}
---
name: fmnist-distill
kind: distill
teacher: fmnist-finetune-1pct
world_size: 1
model: {depth: 18, width_multiplier: 0.125}
data: {dataset: fashion-mnist, path: /usr/share/datasets/fashion-mnist}
distill: {temperature: 1.0}
train: {batch_size: 128, epochs: 1, max_steps: 20, seed: 7}
)";

TEST(ParseJobSpecsTest, ExampleFileIsTheContract) {
  std::ifstream file("examples/fmnist-pipeline.yaml");
  ASSERT_TRUE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(text.str(), kContract);
}

TEST(ParseJobSpecsTest, ContractParsesIntoThreeSpecsWithTheirValues) {
  auto specs = ParseJobSpecs(kContract);
  ASSERT_TRUE(specs.ok()) << specs.status();
  ASSERT_EQ(specs->size(), 3u);

  const v1::JobSpec& pretrain = (*specs)[0];
  EXPECT_EQ(pretrain.name(), "fmnist-pretrain");
  EXPECT_EQ(pretrain.kind(), "pretrain");
  ASSERT_TRUE(pretrain.has_world_size());
  EXPECT_EQ(pretrain.world_size(), 2);
  EXPECT_EQ(pretrain.priority(), 0);
  EXPECT_EQ(pretrain.model().depth(), 18);
  ASSERT_TRUE(pretrain.model().has_width_multiplier());
  EXPECT_EQ(pretrain.model().width_multiplier(), 0.25);
  // sk_ratio: 0 is written, so it is present (optional) even though zero.
  ASSERT_TRUE(pretrain.model().has_sk_ratio());
  EXPECT_EQ(pretrain.model().sk_ratio(), 0.0);
  EXPECT_EQ(pretrain.model().proj_head_layers(), 3);
  EXPECT_EQ(pretrain.model().proj_dim(), 64);
  EXPECT_EQ(pretrain.data().dataset(), "fashion-mnist");
  EXPECT_EQ(pretrain.data().path(), "/usr/share/datasets/fashion-mnist");
  EXPECT_FALSE(pretrain.data().has_label_fraction());
  EXPECT_EQ(pretrain.optimizer().name(), "lars");
  EXPECT_EQ(pretrain.optimizer().base_lr(), 0.3);
  EXPECT_EQ(pretrain.optimizer().lr_scaling(), "linear");
  ASSERT_TRUE(pretrain.optimizer().has_weight_decay());
  EXPECT_EQ(pretrain.optimizer().weight_decay(), 1.0e-6);
  EXPECT_EQ(pretrain.optimizer().momentum(), 0.9);
  EXPECT_EQ(pretrain.optimizer().warmup_epochs(), 0.1);
  EXPECT_EQ(pretrain.train().batch_size(), 128);
  EXPECT_EQ(pretrain.train().epochs(), 1.0);
  EXPECT_EQ(pretrain.train().max_steps(), 8);
  EXPECT_EQ(pretrain.train().temperature(), 0.2);
  EXPECT_EQ(pretrain.train().precision(), "fp32");
  EXPECT_EQ(pretrain.train().seed(), 7);
  EXPECT_EQ(pretrain.train().checkpoint_every_steps(), 4);

  const v1::JobSpec& finetune = (*specs)[1];
  EXPECT_EQ(finetune.name(), "fmnist-finetune-1pct");
  EXPECT_EQ(finetune.kind(), "finetune");
  EXPECT_EQ(finetune.parent(), "fmnist-pretrain");
  EXPECT_EQ(finetune.world_size(), 1);
  EXPECT_FALSE(finetune.has_model());
  ASSERT_TRUE(finetune.data().has_label_fraction());
  EXPECT_EQ(finetune.data().label_fraction(), 0.01);
  EXPECT_EQ(finetune.finetune().from_head_layer(), 1);
  EXPECT_EQ(finetune.optimizer().base_lr(), 0.005);
  EXPECT_EQ(finetune.optimizer().lr_scaling(), "sqrt");
  // weight_decay: 0 must survive as an explicit zero, not "unset".
  ASSERT_TRUE(finetune.optimizer().has_weight_decay());
  EXPECT_EQ(finetune.optimizer().weight_decay(), 0.0);
  EXPECT_FALSE(finetune.optimizer().has_momentum());
  EXPECT_EQ(finetune.train().batch_size(), 64);
  EXPECT_EQ(finetune.train().epochs(), 2.0);

  const v1::JobSpec& distill = (*specs)[2];
  EXPECT_EQ(distill.name(), "fmnist-distill");
  EXPECT_EQ(distill.kind(), "distill");
  EXPECT_EQ(distill.teacher(), "fmnist-finetune-1pct");
  EXPECT_EQ(distill.model().width_multiplier(), 0.125);
  EXPECT_FALSE(distill.model().has_sk_ratio());
  EXPECT_EQ(distill.distill().temperature(), 1.0);
  EXPECT_EQ(distill.train().max_steps(), 20);
  EXPECT_FALSE(distill.has_optimizer());
}

TEST(ParseJobSpecsTest, UnknownFieldIsNamedWithItsSpecAndLine) {
  auto specs = ParseJobSpecs(
      "name: a\nkind: pretrain\n---\nname: fmnist-finetune-1pct\n"
      "modle: {depth: 18}\n");
  ASSERT_FALSE(specs.ok());
  EXPECT_EQ(specs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(specs.status().message(),
              HasSubstr("spec 2 (fmnist-finetune-1pct): unknown field "
                        "\"modle\" at line 5, column 1"));
  EXPECT_THAT(specs.status().message(), HasSubstr("expected one of: name,"));
}

TEST(ParseJobSpecsTest, UnknownNestedFieldIsNamedByItsPath) {
  auto specs = ParseJobSpecs("name: x\noptimizer: {name: lars, wd: 0}\n");
  ASSERT_FALSE(specs.ok());
  EXPECT_THAT(specs.status().message(),
              HasSubstr("spec 1 (x): unknown field \"optimizer.wd\""));
  EXPECT_THAT(specs.status().message(), HasSubstr("weight_decay"));
}

TEST(ParseJobSpecsTest, SyntaxErrorNamesLineAndColumn) {
  auto specs = ParseJobSpecs("name: x\nmodel: {depth: 18\nkind: pretrain\n");
  ASSERT_FALSE(specs.ok());
  EXPECT_EQ(specs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(specs.status().message(), HasSubstr("YAML syntax error at line"));
  EXPECT_THAT(specs.status().message(), HasSubstr("column"));
}

TEST(ParseJobSpecsTest, QuotedWordForIntegerFieldIsATypeError) {
  auto specs = ParseJobSpecs("name: x\nworld_size: \"two\"\n");
  ASSERT_FALSE(specs.ok());
  EXPECT_EQ(specs.status().message(),
            "spec 1 (x): field \"world_size\" at line 2, column 13: "
            "expected an integer, got \"two\"");
}

TEST(ParseJobSpecsTest, FractionForIntegerFieldIsATypeError) {
  auto specs = ParseJobSpecs("name: x\nmodel: {depth: 18.5}\n");
  ASSERT_FALSE(specs.ok());
  EXPECT_THAT(specs.status().message(),
              HasSubstr("field \"model.depth\" at line 2, column 16: expected "
                        "an integer, got number 18.5"));
}

TEST(ParseJobSpecsTest, ScalarWhereMessageExpectedIsATypeError) {
  auto specs = ParseJobSpecs("name: x\ntrain: 128\n");
  ASSERT_FALSE(specs.ok());
  EXPECT_THAT(specs.status().message(),
              HasSubstr("field \"train\" at line 2, column 8: expected a "
                        "mapping of TrainSpec fields, got integer 128"));
}

TEST(ParseJobSpecsTest, NumberForStringFieldSuggestsQuoting) {
  auto specs = ParseJobSpecs("name: 2024\n");
  ASSERT_FALSE(specs.ok());
  EXPECT_THAT(specs.status().message(),
              HasSubstr("field \"name\" at line 1, column 7: expected a "
                        "string, got integer 2024 (quote it"));
}

TEST(ParseJobSpecsTest, QuotedNumbersAndIntegersForDoublesAreAccepted) {
  auto specs = ParseJobSpecs(
      "name: \"2024\"\nworld_size: \"3\"\ntrain: {epochs: 2, seed: "
      "9007199254740993}\nfinetune: {freeze_encoder: true}\n");
  ASSERT_TRUE(specs.ok()) << specs.status();
  EXPECT_EQ((*specs)[0].name(), "2024");
  EXPECT_EQ((*specs)[0].world_size(), 3);
  EXPECT_EQ((*specs)[0].train().epochs(), 2.0);
  // int64 survives beyond double precision (2^53 + 1).
  EXPECT_EQ((*specs)[0].train().seed(), 9007199254740993LL);
  EXPECT_TRUE((*specs)[0].finetune().freeze_encoder());
}

TEST(ParseJobSpecsTest, OutOfRangeValueIsReportedWithItsSpec) {
  auto specs = ParseJobSpecs("name: x\nworld_size: 99999999999\n");
  ASSERT_FALSE(specs.ok());
  EXPECT_THAT(specs.status().message(), HasSubstr("spec 1 (x): "));
  EXPECT_THAT(specs.status().message(), HasSubstr("world_size"));
}

TEST(ParseJobSpecsTest, LabelsAreAMapOfStrings) {
  auto specs = ParseJobSpecs("name: x\nlabels: {team: vision, exp: \"7\"}\n");
  ASSERT_TRUE(specs.ok()) << specs.status();
  EXPECT_EQ((*specs)[0].labels().at("team"), "vision");
  EXPECT_EQ((*specs)[0].labels().at("exp"), "7");
  auto number = ParseJobSpecs("name: x\nlabels: {exp: 7}\n");
  ASSERT_FALSE(number.ok());
  EXPECT_THAT(number.status().message(), HasSubstr("field \"labels.exp\" at line 2"));
  EXPECT_THAT(number.status().message(), HasSubstr("quote it"));
  auto list = ParseJobSpecs("name: x\nlabels: [a]\n");
  ASSERT_FALSE(list.ok());
  EXPECT_THAT(list.status().message(), HasSubstr("expected a mapping"));
}

TEST(ParseJobSpecsTest, DuplicateKeyIsNamedWithItsLine) {
  auto specs = ParseJobSpecs("name: x\ntrain: {seed: 1}\nname: y\n");
  ASSERT_FALSE(specs.ok());
  EXPECT_THAT(specs.status().message(), HasSubstr("duplicate field \"name\" at line 3"));
}

// What `simclrctl get job -o yaml` and `describe` print of a spec is a spec
// file again: every field and type survives the trip.
TEST(ParseJobSpecsTest, SpecsAsPrintedReadBackUnchanged) {
  auto specs = ParseJobSpecs(kContract);
  ASSERT_TRUE(specs.ok()) << specs.status();
  for (v1::JobSpec spec : *specs) {
    (*spec.mutable_labels())["team"] = "vision";
    spec.mutable_train()->set_seed(9007199254740993LL);
    for (bool defaults : {false, true}) {
      auto again = ParseJobSpecs(ToYaml(spec, defaults));
      ASSERT_TRUE(again.ok()) << again.status() << "\n" << ToYaml(spec, defaults);
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals((*again)[0], spec))
          << ToYaml(spec, defaults);
    }
  }
}

TEST(ParseJobSpecsTest, EmptyFileIsAnError) {
  auto specs = ParseJobSpecs("# nothing here\n");
  ASSERT_FALSE(specs.ok());
  EXPECT_THAT(specs.status().message(), HasSubstr("no job specs"));
}

TEST(ParseJobSpecsTest, DocumentThatIsNotAMappingIsAnError) {
  auto specs = ParseJobSpecs("- name: x\n");
  ASSERT_FALSE(specs.ok());
  EXPECT_THAT(specs.status().message(),
              HasSubstr("spec 1: document at line 1, column 1: expected a "
                        "mapping of JobSpec fields, got a list"));
}

TEST(SpecFileTest, BoundsSizeDocumentsAndNestingBeforeParsing) {
  auto big = ParseJobSpecs("name: x\n" + std::string(kMaxSpecFileBytes, '#'));
  EXPECT_THAT(std::string(big.status().message()), HasSubstr("expected at most 1048576"));
  auto deep = ParseJobSpecs("name: " + std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_THAT(std::string(deep.status().message()),
              HasSubstr("nests [ ] and { } 100000 deep; expected at most 32"));
  // Brackets inside quotes and comments do not count.
  EXPECT_TRUE(ParseJobSpecs("name: \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"  # {{{{\nkind: pretrain\n").ok());
  std::string many;
  for (int i = 0; i < 1001; ++i) many += "name: a\n---\n";
  EXPECT_THAT(std::string(ParseJobSpecs(many).status().message()),
              HasSubstr("holds more than 1000 documents"));
}

// Found by tests/fuzz/spec_fuzzer: yaml-cpp 0.7's LoadAll never returned on
// these two-byte files, so `simclrctl submit` hung.
TEST(SpecFileTest, TextYamlCppReadsAsEndlessDocumentsIsRefused) {
  EXPECT_THAT(std::string(ParseJobSpecs(",)").status().message()),
              HasSubstr("holds more than 1000 documents"));
  EXPECT_THAT(std::string(ParseJobSpecs(std::string(",\x08", 2)).status().message()),
              HasSubstr("line 1, column 2: control character 0x08; YAML allows tab"));
  EXPECT_TRUE(ParseJobSpecs("name: a\r\nkind:\tpretrain\r\n").ok());
}

}  // namespace
}  // namespace simclr::client
