#include "coordinator/job_spec.h"

#include <cmath>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simclr::coordinator {
namespace {

using ::testing::HasSubstr;

v1::JobSpec Pretrain() {
  v1::JobSpec spec;
  spec.set_name("fmnist-pretrain");
  spec.set_kind("pretrain");
  spec.mutable_data()->set_dataset("fashion-mnist");
  return spec;
}

v1::JobSpec Finetune() {
  v1::JobSpec spec;
  spec.set_name("fmnist-finetune");
  spec.set_kind("finetune");
  spec.set_parent("fmnist-pretrain");
  spec.mutable_data()->set_label_fraction(0.01);
  return spec;
}

void ExpectInvalid(const v1::JobSpec& spec, const std::string& field, const std::string& detail) {
  absl::Status s = CheckJobSpec(spec);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(field + ":"));
  EXPECT_THAT(std::string(s.message()), HasSubstr(detail));
}

TEST(JobSpecTest, AcceptsMinimalSpecsOfEveryKind) {
  EXPECT_TRUE(CheckJobSpec(Pretrain()).ok());
  EXPECT_TRUE(CheckJobSpec(Finetune()).ok());
  v1::JobSpec distill;
  distill.set_name("d");
  distill.set_kind("distill");
  distill.set_teacher("t");
  EXPECT_TRUE(CheckJobSpec(distill).ok());
}

TEST(JobSpecTest, RejectsWorldSizeZeroButDefaultsAnOmittedOne) {
  v1::JobSpec spec = Pretrain();
  spec.set_world_size(0);
  ExpectInvalid(spec, "world_size", "got 0, expected an integer in [1, 4096]");
  spec.clear_world_size();
  ASSERT_TRUE(CheckJobSpec(spec).ok());
  ApplyDefaults(nullptr, spec);
  EXPECT_EQ(spec.world_size(), 1);
}

TEST(JobSpecTest, NamesTheUnknownKindAndTheChoices) {
  v1::JobSpec spec = Pretrain();
  spec.set_kind("pretrian");
  ExpectInvalid(spec, "kind", "got \"pretrian\", expected one of pretrain, finetune, distill, linear_eval, supervised");
}

TEST(JobSpecTest, RejectsBadNames) {
  v1::JobSpec spec = Pretrain();
  spec.set_name("Bad_Name");
  ExpectInvalid(spec, "name", "\"Bad_Name\"");
  spec.set_name("");
  ExpectInvalid(spec, "name", "got nothing");
  // Jobs are found by id or name: a name may not look like an id.
  spec.set_name("j-3");
  ExpectInvalid(spec, "name", "not of the form j-<number>");
  spec.set_name("j-3a");
  EXPECT_TRUE(CheckJobSpec(spec).ok());
}

TEST(JobSpecTest, ChecksLabels) {
  v1::JobSpec spec = Pretrain();
  (*spec.mutable_labels())["team"] = "Vision-1";
  (*spec.mutable_labels())["example.com/owner"] = "ada";
  EXPECT_TRUE(CheckJobSpec(spec).ok());
  (*spec.mutable_labels())["Team"] = "x";
  ExpectInvalid(spec, "labels", "key \"Team\"");
  spec.mutable_labels()->erase("Team");
  (*spec.mutable_labels())["team"] = "a b";
  ExpectInvalid(spec, "labels.team", "\"a b\"");
  spec.mutable_labels()->clear();
  for (int i = 0; i < 17; ++i) (*spec.mutable_labels())["k" + std::to_string(i)] = "v";
  ExpectInvalid(spec, "labels", "at most 16");
}

TEST(JobSpecTest, FinetuneNeedsAParentAndMayNotSetAModel) {
  v1::JobSpec spec = Finetune();
  spec.clear_parent();
  ExpectInvalid(spec, "parent", "got nothing");
  spec = Finetune();
  spec.mutable_model()->set_depth(50);
  ExpectInvalid(spec, "model", "uses its parent's network");
}

TEST(JobSpecTest, PretrainMayNotHaveAParentOrLabels) {
  v1::JobSpec spec = Pretrain();
  spec.set_parent("x");
  ExpectInvalid(spec, "parent", "no parent for a pretrain job");
  spec = Pretrain();
  spec.mutable_data()->set_label_fraction(0.1);
  ExpectInvalid(spec, "data.label_fraction", "unlabelled");
}

TEST(JobSpecTest, ChecksRangesOfNestedFields) {
  v1::JobSpec spec = Pretrain();
  spec.mutable_model()->set_depth(42);
  ExpectInvalid(spec, "model.depth", "one of 18, 34, 50, 101, 152");
  spec = Pretrain();
  spec.mutable_model()->set_width_multiplier(4);
  ExpectInvalid(spec, "model.width_multiplier", "[0.0625, 3]");
  spec = Pretrain();
  spec.set_world_size(3);
  spec.mutable_train()->set_batch_size(128);
  ExpectInvalid(spec, "train.batch_size", "a multiple of world_size (3)");
  spec = Pretrain();
  spec.mutable_train()->set_precision("fp16");
  ExpectInvalid(spec, "train.precision", "fp32, bf16");
  spec = Finetune();
  spec.mutable_data()->set_label_fraction(1.5);
  ExpectInvalid(spec, "data.label_fraction", "(0, 1]");
  spec = Pretrain();
  spec.mutable_optimizer()->set_name("adam");
  ExpectInvalid(spec, "optimizer.name", "lars, sgd");
}

TEST(JobSpecTest, DefaultsFollowThePaperAndKeepExplicitZeros) {
  v1::JobSpec pretrain = Pretrain();
  ApplyDefaults(nullptr, pretrain);
  EXPECT_EQ(pretrain.model().depth(), 50);
  EXPECT_EQ(pretrain.model().proj_head_layers(), 3);
  EXPECT_EQ(pretrain.model().proj_dim(), 128);
  EXPECT_EQ(pretrain.optimizer().name(), "lars");
  EXPECT_DOUBLE_EQ(pretrain.optimizer().base_lr(), 0.3);
  EXPECT_EQ(pretrain.optimizer().lr_scaling(), "linear");
  EXPECT_DOUBLE_EQ(pretrain.optimizer().weight_decay(), 1e-6);
  EXPECT_DOUBLE_EQ(pretrain.train().temperature(), 0.1);
  EXPECT_EQ(pretrain.data().path(), "/usr/share/datasets/fashion-mnist");

  v1::JobSpec zero_decay = Pretrain();
  zero_decay.mutable_optimizer()->set_weight_decay(0);
  ApplyDefaults(nullptr, zero_decay);
  EXPECT_TRUE(zero_decay.optimizer().has_weight_decay());
  EXPECT_DOUBLE_EQ(zero_decay.optimizer().weight_decay(), 0);
}

TEST(JobSpecTest, FinetuneInheritsTheParentsModelAndData) {
  v1::JobSpec parent = Pretrain();
  parent.mutable_model()->set_depth(18);
  parent.mutable_model()->set_width_multiplier(0.25);
  ApplyDefaults(nullptr, parent);
  v1::JobSpec child = Finetune();
  ApplyDefaults(&parent, child);
  EXPECT_EQ(child.model().depth(), 18);
  EXPECT_DOUBLE_EQ(child.model().width_multiplier(), 0.25);
  EXPECT_EQ(child.data().dataset(), "fashion-mnist");
  EXPECT_DOUBLE_EQ(child.data().label_fraction(), 0.01);
  EXPECT_EQ(child.finetune().from_head_layer(), 1);
  EXPECT_DOUBLE_EQ(child.optimizer().weight_decay(), 0);
  EXPECT_EQ(child.optimizer().lr_scaling(), "sqrt");
}

TEST(JobSpecTest, FromHeadLayerMustExistInTheParentsHead) {
  v1::JobSpec parent = Pretrain();
  parent.mutable_model()->set_proj_head_layers(2);
  ApplyDefaults(nullptr, parent);
  v1::JobSpec child = Finetune();
  child.mutable_finetune()->set_from_head_layer(3);
  ApplyDefaults(&parent, child);
  absl::Status s = CheckAgainstParent(parent, child);
  EXPECT_THAT(std::string(s.message()), HasSubstr("finetune.from_head_layer: got 3"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("[0, 2]"));
}

v1::JobSpec Distill(double label_weight) {
  v1::JobSpec spec;
  spec.set_name("fmnist-distill");
  spec.set_kind("distill");
  spec.set_teacher("fmnist-finetune");
  spec.mutable_distill()->set_label_weight(label_weight);
  return spec;
}

// Reported: a "10% labels" distillation with label_weight > 0 took the label
// loss on every image. Its label loss now needs the labelled subset named.
TEST(JobSpecTest, DistillationsLabelLossNeedsTheLabelledSubset) {
  ExpectInvalid(Distill(0.5), "data.label_fraction",
                "the labelled subset the label loss may use");
  v1::JobSpec with_subset = Distill(0.5);
  with_subset.mutable_data()->set_label_fraction(0.1);
  EXPECT_TRUE(CheckJobSpec(with_subset).ok());
  v1::JobSpec with_index = Distill(0.5);
  with_index.mutable_data()->set_label_index_file("/usr/share/datasets/labels.txt");
  EXPECT_TRUE(CheckJobSpec(with_index).ok());
  // Without a label loss a distillation reads no labels, so naming some is
  // a mistake.
  v1::JobSpec unlabelled = Distill(0);
  unlabelled.mutable_data()->set_label_fraction(0.1);
  ExpectInvalid(unlabelled, "data.label_fraction", "trains on unlabelled images");
  // The stored spec keeps the subset as given (no default of every label).
  ApplyDefaults(nullptr, with_subset);
  EXPECT_DOUBLE_EQ(with_subset.data().label_fraction(), 0.1);
}

// Reported: linear evaluation used plain momentum where the official
// optimizer is Nesterov's, for 1-3 epochs.
TEST(JobSpecTest, LinearEvaluationDefaultsToTheOfficialProtocol) {
  v1::JobSpec pretrain = Pretrain();
  ApplyDefaults(nullptr, pretrain);
  v1::JobSpec linear;
  linear.set_name("fmnist-linear");
  linear.set_kind("linear_eval");
  linear.set_parent("fmnist-pretrain");
  ASSERT_TRUE(CheckJobSpec(linear).ok());
  ApplyDefaults(&pretrain, linear);
  EXPECT_EQ(linear.optimizer().name(), "sgd");
  EXPECT_TRUE(linear.optimizer().nesterov());
  EXPECT_EQ(linear.optimizer().lr_scaling(), "linear");
  EXPECT_DOUBLE_EQ(linear.optimizer().base_lr(), 0.1);
  EXPECT_DOUBLE_EQ(linear.optimizer().weight_decay(), 0.0);
  EXPECT_DOUBLE_EQ(linear.train().epochs(), 90);
  // LARS keeps plain momentum; asking otherwise is refused.
  v1::JobSpec lars = Pretrain();
  lars.mutable_optimizer()->set_name("lars");
  lars.mutable_optimizer()->set_nesterov(true);
  ExpectInvalid(lars, "optimizer.nesterov", "no value unless optimizer.name is sgd");
  EXPECT_FALSE(pretrain.optimizer().has_nesterov());
}

TEST(JobSpecTest, PartialFineTuningNamesAStage) {
  v1::JobSpec spec = Finetune();
  spec.mutable_finetune()->set_from_block(3);
  EXPECT_TRUE(CheckJobSpec(spec).ok());
  spec.mutable_finetune()->set_from_block(5);
  ExpectInvalid(spec, "finetune.from_block", "an integer in [0, 4]");
  spec.mutable_finetune()->set_from_block(2);
  spec.mutable_finetune()->set_freeze_encoder(true);
  ExpectInvalid(spec, "finetune.from_block", "0 with freeze_encoder");
}

TEST(JobSpecTest, AValidationSetIsInheritedAndEvaluationNeedsOne) {
  v1::JobSpec pretrain = Pretrain();
  pretrain.mutable_data()->set_evaluate_on("validation");
  ExpectInvalid(pretrain, "data.evaluate_on", "validation with data.validation_examples > 0");
  pretrain.mutable_data()->set_validation_examples(5000);
  ASSERT_TRUE(CheckJobSpec(pretrain).ok());
  ApplyDefaults(nullptr, pretrain);

  v1::JobSpec finetune = Finetune();
  finetune.mutable_data()->set_evaluate_on("validation");
  ASSERT_TRUE(CheckJobSpec(finetune).ok());
  ApplyDefaults(&pretrain, finetune);
  EXPECT_EQ(finetune.data().validation_examples(), 5000);
  EXPECT_TRUE(CheckAgainstParent(pretrain, finetune).ok());

  v1::JobSpec orphan = Finetune();
  orphan.mutable_data()->set_evaluate_on("validation");
  v1::JobSpec plain = Pretrain();
  ApplyDefaults(nullptr, plain);
  ApplyDefaults(&plain, orphan);
  EXPECT_EQ(orphan.data().evaluate_on(), "validation");
  EXPECT_THAT(std::string(CheckAgainstParent(plain, orphan).message()),
              HasSubstr("data.evaluate_on"));
  EXPECT_EQ(plain.data().evaluate_on(), "test");

  v1::JobSpec indexed = Finetune();
  indexed.mutable_data()->clear_label_fraction();
  indexed.mutable_data()->set_label_index_file("/usr/share/datasets/labels.txt");
  indexed.mutable_data()->set_validation_examples(100);
  ExpectInvalid(indexed, "data.label_index_file", "no value with data.validation_examples");
}

TEST(JobSpecTest, TheMemoryOfNegativesIsAPretrainingOption) {
  v1::JobSpec pretrain = Pretrain();
  pretrain.mutable_train()->set_memory_size(65536);
  ASSERT_TRUE(CheckJobSpec(pretrain).ok());
  ApplyDefaults(nullptr, pretrain);
  EXPECT_DOUBLE_EQ(pretrain.train().memory_momentum(), 0.999);
  v1::JobSpec off = Pretrain();
  ApplyDefaults(nullptr, off);
  EXPECT_FALSE(off.train().has_memory_momentum());
  v1::JobSpec finetune = Finetune();
  finetune.mutable_train()->set_memory_size(1024);
  ExpectInvalid(finetune, "train.memory_size", "the memory of negatives is for pretraining");
  pretrain.mutable_train()->set_memory_size(-1);
  ExpectInvalid(pretrain, "train.memory_size", "an integer in [0, 1048576]");
}

TEST(JobSpecTest, BlurIsAPretrainingOption) {
  v1::JobSpec pretrain = Pretrain();
  pretrain.mutable_train()->set_blur(false);
  EXPECT_TRUE(CheckJobSpec(pretrain).ok());
  v1::JobSpec finetune = Finetune();
  finetune.mutable_train()->set_blur(true);
  ExpectInvalid(finetune, "train.blur", "only pretraining's augmentation blurs");
}

TEST(JobSpecTest, TheCropsSmallestAreaIsAFractionOfTheImage) {
  v1::JobSpec pretrain = Pretrain();
  ApplyDefaults(nullptr, pretrain);
  EXPECT_DOUBLE_EQ(pretrain.train().crop_area_min(), 0.08);  // the official crop
  v1::JobSpec finetune = Finetune();
  finetune.mutable_train()->set_crop_area_min(1.0);  // flips only
  EXPECT_TRUE(CheckJobSpec(finetune).ok());
  v1::JobSpec completed = finetune;
  ApplyDefaults(&pretrain, completed);
  EXPECT_DOUBLE_EQ(completed.train().crop_area_min(), 1.0);
  for (double bad : {0.0, -0.1, 1.5, std::nan("")}) {
    finetune.mutable_train()->set_crop_area_min(bad);
    ExpectInvalid(finetune, "train.crop_area_min", "a number in (0, 1]");
  }
}

TEST(JobSpecTest, DependenciesMustBeOfKindsThatCanServe) {
  v1::JobSpec pretrain = Pretrain();
  ApplyDefaults(nullptr, pretrain);
  v1::JobSpec distill = Distill(0);
  ApplyDefaults(&pretrain, distill);
  EXPECT_THAT(std::string(CheckAgainstParent(pretrain, distill).message()),
              HasSubstr("teacher: got \"fmnist-finetune\", expected a job with a trained "
                        "classifier, not a pretrain job"));

  v1::JobSpec supervised = Pretrain();
  supervised.set_kind("supervised");
  ApplyDefaults(nullptr, supervised);
  v1::JobSpec finetune = Finetune();
  ApplyDefaults(&supervised, finetune);
  EXPECT_THAT(std::string(CheckAgainstParent(supervised, finetune).message()),
              HasSubstr("(pretrain, finetune, distill), not a supervised job"));
  ApplyDefaults(&pretrain, finetune);
  EXPECT_TRUE(CheckAgainstParent(pretrain, finetune).ok());
}

TEST(JobSpecTest, ADependencyInTheWrongFieldNamesTheRightOne) {
  v1::JobSpec distill = Distill(0);
  distill.set_parent("fmnist-finetune");
  ExpectInvalid(distill, "parent", "no parent for a distill job (a distill job names a teacher)");
  v1::JobSpec finetune = Finetune();
  finetune.set_teacher("t");
  ExpectInvalid(finetune, "teacher", "no teacher for a finetune job (a finetune job names a parent)");
}

// Reported: `train: {epochs: 1e300}` was accepted and the job ran 1 step
// (the step count overflowed).
TEST(JobSpecLimitsTest, RefusesEpochsBeyondTheMaximum) {
  v1::JobSpec spec = Pretrain();
  spec.mutable_train()->set_epochs(1e300);
  ExpectInvalid(spec, "train.epochs", "got 1e+300, expected a number in (0, 100000]");
  spec.mutable_train()->set_epochs(100000);
  EXPECT_TRUE(CheckJobSpec(spec).ok());
}

// Reported: `temperature: .inf` was accepted and failed only on the worker.
TEST(JobSpecLimitsTest, RefusesNonFiniteTemperatures) {
  v1::JobSpec spec = Pretrain();
  spec.mutable_train()->set_temperature(std::numeric_limits<double>::infinity());
  ExpectInvalid(spec, "train.temperature", "got inf, expected a number in (0, 100]");
  spec.mutable_train()->set_temperature(std::nan(""));
  ExpectInvalid(spec, "train.temperature", "expected a number in (0, 100]");
  v1::JobSpec distill;
  distill.set_name("d");
  distill.set_kind("distill");
  distill.set_teacher("t");
  distill.mutable_distill()->set_temperature(std::numeric_limits<double>::infinity());
  ExpectInvalid(distill, "distill.temperature", "got inf, expected a number in (0, 100]");
}

TEST(JobSpecLimitsTest, BoundsEveryCountAndRate) {
  struct Case {
    void (*set)(v1::JobSpec&);
    std::string field;
  };
  const Case cases[] = {
      {[](v1::JobSpec& s) { s.mutable_train()->set_batch_size(1 << 30); }, "train.batch_size"},
      {[](v1::JobSpec& s) { s.mutable_train()->set_max_steps(int64_t{1} << 62); },
       "train.max_steps"},
      {[](v1::JobSpec& s) { s.mutable_train()->set_checkpoint_every_steps(int64_t{1} << 62); },
       "train.checkpoint_every_steps"},
      {[](v1::JobSpec& s) { s.mutable_train()->set_profile_step(-1); }, "train.profile_step"},
      {[](v1::JobSpec& s) { s.mutable_train()->set_eval_batch_size(1 << 30); },
       "train.eval_batch_size"},
      {[](v1::JobSpec& s) { s.mutable_optimizer()->set_base_lr(1e308); }, "optimizer.base_lr"},
      {[](v1::JobSpec& s) { s.set_priority(1 << 30); }, "priority"},
      {[](v1::JobSpec& s) { s.mutable_data()->set_max_train_examples(int64_t{1} << 62); },
       "data.max_train_examples"},
      {[](v1::JobSpec& s) { s.mutable_data()->set_path("/usr/share/datasets/" + std::string(5000, 'x')); },
       "data.path"},
  };
  for (const Case& c : cases) {
    v1::JobSpec spec = Pretrain();
    c.set(spec);
    ExpectInvalid(spec, c.field, "expected");
  }
}

// Reported: `label_index_file: /etc/os-release` failed on the worker with the
// file's first line in the job's reason, which every client can read.
TEST(JobSpecLimitsTest, PathsMustLieUnderTheDataRoots) {
  SpecLimits limits;
  limits.data_roots = {"/usr/share/datasets"};
  v1::JobSpec spec = Finetune();
  spec.mutable_data()->clear_label_fraction();
  spec.mutable_data()->set_label_index_file("/etc/os-release");
  absl::Status s = CheckJobSpec(spec, limits);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("data.label_index_file: got \"/etc/os-release\", expected an absolute "
                        "path under one of the data roots (/usr/share/datasets)"));
  spec.mutable_data()->set_label_index_file("/usr/share/datasets/fmnist/1pct.txt");
  EXPECT_TRUE(CheckJobSpec(spec, limits).ok());

  v1::JobSpec pretrain = Pretrain();
  pretrain.mutable_data()->set_path("/usr/share/datasets/../../../dev");
  EXPECT_TRUE(absl::IsInvalidArgument(CheckJobSpec(pretrain, limits)));
}

TEST(JobSpecLimitsTest, WorldSizeIsCappedByTheOperator) {
  SpecLimits limits;
  limits.max_world_size = 8;
  v1::JobSpec spec = Pretrain();
  spec.set_world_size(16);
  absl::Status s = CheckJobSpec(spec, limits);
  EXPECT_THAT(std::string(s.message()), HasSubstr("world_size: got 16, expected an integer in [1, 8]"));
  spec.set_world_size(8);
  EXPECT_TRUE(CheckJobSpec(spec, limits).ok());
}

}  // namespace
}  // namespace simclr::coordinator
