#include "worker/training/model_setup.h"

#include <set>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/job_kinds.h"
#include "gtest/gtest.h"
#include "model/data/dataset.h"
#include "model/data/subset.h"

namespace simclr::worker {
namespace {

// 1000 blank 8x8 images, 100 of each of 10 classes.
model::InMemoryDataset TenClasses() {
  std::vector<int64_t> labels(1000);
  for (int64_t i = 0; i < 1000; ++i) labels[i] = i % 10;
  return model::InMemoryDataset(torch::zeros({1000, 1, 8, 8}, torch::kUInt8), labels, 10);
}

v1::JobSpec Spec(const std::string& kind) {
  v1::JobSpec spec;
  spec.set_kind(kind);
  spec.mutable_train()->set_seed(7);
  return spec;
}

// Counts of labelled examples per class, and of unlabelled ones.
std::vector<int64_t> LabelCounts(const model::Dataset& examples, int64_t* unlabelled) {
  std::vector<int64_t> per_class(10, 0);
  *unlabelled = 0;
  for (int64_t i = 0; i < examples.size(); ++i) {
    const int64_t label = examples.Label(i);
    if (label == model::kUnlabelled) {
      ++*unlabelled;
    } else {
      ++per_class.at(label);
    }
  }
  return per_class;
}

TEST(TrainingExamplesTest, FinetuneTrainsOnTheLabelledSubsetOnly) {
  const model::InMemoryDataset split = TenClasses();
  v1::JobSpec spec = Spec("finetune");
  spec.mutable_data()->set_label_fraction(0.1);
  auto examples = TrainingExamples(&split, *FindJobKind("finetune"), spec);
  ASSERT_TRUE(examples.ok()) << examples.status();
  int64_t unlabelled = 0;
  EXPECT_EQ((*examples)->size(), 100);
  EXPECT_EQ(LabelCounts(**examples, &unlabelled), std::vector<int64_t>(10, 10));
  EXPECT_EQ(unlabelled, 0);
}

// The paper's Eq. 3: distillation trains on every image, and its label loss
// sees the labels of the labelled subset only; the same subset the
// fine-tuning job with the same fraction and seed used.
TEST(TrainingExamplesTest, DistillationSeesEveryImageButOnlyTheSubsetsLabels) {
  const model::InMemoryDataset split = TenClasses();
  v1::JobSpec spec = Spec("distill");
  spec.mutable_data()->set_label_fraction(0.1);
  spec.mutable_distill()->set_label_weight(0.5);
  auto examples = TrainingExamples(&split, *FindJobKind("distill"), spec);
  ASSERT_TRUE(examples.ok()) << examples.status();
  int64_t unlabelled = 0;
  EXPECT_EQ((*examples)->size(), 1000);
  EXPECT_EQ(LabelCounts(**examples, &unlabelled), std::vector<int64_t>(10, 10));
  EXPECT_EQ(unlabelled, 900);

  v1::JobSpec finetune = Spec("finetune");
  finetune.mutable_data()->set_label_fraction(0.1);
  auto subset = TrainingExamples(&split, *FindJobKind("finetune"), finetune);
  ASSERT_TRUE(subset.ok());
  std::set<int64_t> fine_tuned_on;
  for (int64_t i = 0; i < (*subset)->size(); ++i) {
    fine_tuned_on.insert(static_cast<const model::SubsetDataset&>(**subset).BaseIndex(i));
  }
  for (int64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ((*examples)->Label(i) != model::kUnlabelled, fine_tuned_on.count(i) > 0) << i;
  }
}

TEST(TrainingExamplesTest, DistillationWithoutLabelLossReadsNoLabel) {
  const model::InMemoryDataset split = TenClasses();
  auto examples = TrainingExamples(&split, *FindJobKind("distill"), Spec("distill"));
  ASSERT_TRUE(examples.ok());
  int64_t unlabelled = 0;
  LabelCounts(**examples, &unlabelled);
  EXPECT_EQ(unlabelled, 1000);
}

TEST(TrainingExamplesTest, PretrainingTrainsOnEveryImage) {
  const model::InMemoryDataset split = TenClasses();
  auto examples = TrainingExamples(&split, *FindJobKind("pretrain"), Spec("pretrain"));
  ASSERT_TRUE(examples.ok());
  EXPECT_EQ((*examples)->size(), 1000);
}

std::set<std::string> TrainedNames(model::SimclrModelImpl& net, int head_layers, Frozen frozen) {
  std::set<std::string> names;
  for (const model::ParamGroup& group : TrainableParameters(net, head_layers, frozen, false)) {
    names.insert(group.names.begin(), group.names.end());
  }
  return names;
}

// Reported: finetune.freeze_encoder was accepted and never read.
TEST(FrozenPartsTest, FreezeEncoderKeepsTheEncoderOutOfTheOptimiser) {
  v1::JobSpec finetune = Spec("finetune");
  EXPECT_EQ(FrozenParts(*FindJobKind("finetune"), finetune), Frozen::kNothing);
  finetune.mutable_finetune()->set_freeze_encoder(true);
  EXPECT_EQ(FrozenParts(*FindJobKind("finetune"), finetune), Frozen::kEncoder);
  EXPECT_EQ(FrozenParts(*FindJobKind("linear_eval"), Spec("linear_eval")),
            Frozen::kEncoderAndHead);

  model::ModelOptions options;
  options.resnet.depth = 18;
  options.resnet.width_multiplier = 0.0625;
  options.resnet.in_channels = 1;
  options.resnet.image_size = 28;
  options.proj_head_layers = 2;
  options.num_classes = 10;
  options.from_head_layer = 1;
  auto net = model::MakeSimclrModel(options);
  ASSERT_TRUE(net.ok()) << net.status();

  auto in = [](const std::set<std::string>& names, const char* prefix) {
    int n = 0;
    for (const std::string& name : names) n += name.rfind(prefix, 0) == 0;
    return n;
  };
  const std::set<std::string> everything = TrainedNames(**net, 1, Frozen::kNothing);
  const std::set<std::string> head_and_classifier = TrainedNames(**net, 1, Frozen::kEncoder);
  const std::set<std::string> classifier = TrainedNames(**net, 1, Frozen::kEncoderAndHead);
  EXPECT_GT(in(everything, "resnet."), 0);
  EXPECT_EQ(in(head_and_classifier, "resnet."), 0);
  EXPECT_GT(in(head_and_classifier, "head."), 0);
  EXPECT_GT(in(head_and_classifier, "fc."), 0);
  EXPECT_EQ(in(classifier, "resnet.") + in(classifier, "head."), 0);
  EXPECT_GT(in(classifier, "fc."), 0);
  // Nothing but the encoder is left out by freezing it.
  EXPECT_EQ(everything.size() - in(everything, "resnet."), head_and_classifier.size());
}

}  // namespace
}  // namespace simclr::worker
