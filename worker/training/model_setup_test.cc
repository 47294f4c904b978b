#include "worker/training/model_setup.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/job_kinds.h"
#include "gtest/gtest.h"
#include "model/data/dataset.h"
#include "model/data/subset.h"
#include "worker/training/objectives.h"

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

TEST(TrainingAugmentationTest, FollowsTheKindAndTheSpec) {
  v1::JobSpec pretrain = Spec("pretrain");
  pretrain.mutable_train()->set_color_jitter_strength(0.5);
  pretrain.mutable_train()->set_crop_area_min(0.3);
  model::AugmentOptions views = TrainingAugmentation(*FindJobKind("pretrain"), pretrain, 28);
  EXPECT_EQ(views.mode, model::AugmentMode::kPretrain);
  EXPECT_EQ(views.seed, 7u);
  EXPECT_EQ(views.output_height, 28);
  EXPECT_EQ(views.output_width, 28);
  EXPECT_DOUBLE_EQ(views.crop_area_min, 0.3);
  EXPECT_DOUBLE_EQ(views.jitter_strength, 0.5);
  EXPECT_EQ(views.blur_probability, 0.0);  // no blur at 32 pixels and below
  EXPECT_GT(TrainingAugmentation(*FindJobKind("pretrain"), pretrain, 64).blur_probability, 0.0);
  pretrain.mutable_train()->set_blur(true);
  EXPECT_GT(TrainingAugmentation(*FindJobKind("pretrain"), pretrain, 28).blur_probability, 0.0);

  v1::JobSpec finetune = Spec("finetune");
  finetune.mutable_train()->set_crop_area_min(0.5);
  model::AugmentOptions one = TrainingAugmentation(*FindJobKind("finetune"), finetune, 28);
  EXPECT_EQ(one.mode, model::AugmentMode::kFinetune);
  EXPECT_DOUBLE_EQ(one.crop_area_min, 0.5);
  // Unset: the official crop.
  EXPECT_DOUBLE_EQ(TrainingAugmentation(*FindJobKind("distill"), Spec("distill"), 28).crop_area_min,
                   0.08);
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

// A validation set of about 100 images, 10 a class, that no kind trains on
// and that every job (whatever its seed) holds out alike.
TEST(TrainingExamplesTest, TheValidationSetIsHeldOutOfEveryKindAndSubset) {
  const model::InMemoryDataset split = TenClasses();
  v1::JobSpec finetune = Spec("finetune");
  finetune.mutable_data()->set_validation_examples(100);
  finetune.mutable_data()->set_label_fraction(0.5);
  auto parts = CarveValidation(&split, finetune.data());
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(parts->validation->size(), 100);
  EXPECT_EQ(parts->pool->size(), 900);
  int64_t unlabelled = 0;
  EXPECT_EQ(LabelCounts(*parts->validation, &unlabelled), std::vector<int64_t>(10, 10));
  const std::set<int64_t> held_out(parts->validation->indices().begin(),
                                   parts->validation->indices().end());
  for (int64_t i : parts->pool->indices()) EXPECT_EQ(held_out.count(i), 0u) << i;

  // The labelled subset comes from the pool: half of the 90 left per class.
  auto examples = TrainingExamples(parts->pool.get(), *FindJobKind("finetune"), finetune);
  ASSERT_TRUE(examples.ok());
  EXPECT_EQ(LabelCounts(**examples, &unlabelled), std::vector<int64_t>(10, 45));

  // Another seed, the same validation set.
  v1::JobSpec other = finetune;
  other.mutable_train()->set_seed(99);
  auto again = CarveValidation(&split, other.data());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->validation->indices(), parts->validation->indices());

  v1::JobSpec none = Spec("pretrain");
  auto whole = CarveValidation(&split, none.data());
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->pool->size(), 1000);
  EXPECT_EQ(whole->validation->size(), 0);
}

std::set<std::string> TrainedNames(model::SimclrModelImpl& net, int head_layers,
                                   const Frozen& frozen) {
  std::set<std::string> names;
  for (const model::ParamGroup& group : TrainableParameters(net, head_layers, frozen, false)) {
    names.insert(group.names.begin(), group.names.end());
  }
  return names;
}

int CountWithPrefix(const std::set<std::string>& names, const std::string& prefix) {
  int n = 0;
  for (const std::string& name : names) n += name.rfind(prefix, 0) == 0;
  return n;
}

class FrozenPartsTest : public ::testing::Test {
 protected:
  void SetUp() override {
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
    net_ = *net;
  }
  model::SimclrModel net_{nullptr};
};

// Reported: finetune.freeze_encoder was accepted and never read.
TEST_F(FrozenPartsTest, FreezeEncoderKeepsTheEncoderOutOfTheOptimiser) {
  v1::JobSpec finetune = Spec("finetune");
  EXPECT_EQ(FrozenParts(*FindJobKind("finetune"), finetune).encoder_blocks, 0);
  finetune.mutable_finetune()->set_freeze_encoder(true);
  const Frozen encoder = FrozenParts(*FindJobKind("finetune"), finetune);
  EXPECT_EQ(encoder.encoder_blocks, Frozen::kWholeEncoder);
  EXPECT_FALSE(encoder.head);
  const Frozen linear = FrozenParts(*FindJobKind("linear_eval"), Spec("linear_eval"));
  EXPECT_EQ(linear.encoder_blocks, Frozen::kWholeEncoder);
  EXPECT_TRUE(linear.head);

  const std::set<std::string> everything = TrainedNames(*net_, 1, Frozen());
  const std::set<std::string> head_and_classifier = TrainedNames(*net_, 1, encoder);
  const std::set<std::string> classifier = TrainedNames(*net_, 1, linear);
  EXPECT_GT(CountWithPrefix(everything, "resnet."), 0);
  EXPECT_EQ(CountWithPrefix(head_and_classifier, "resnet."), 0);
  EXPECT_GT(CountWithPrefix(head_and_classifier, "head."), 0);
  EXPECT_GT(CountWithPrefix(head_and_classifier, "fc."), 0);
  EXPECT_EQ(CountWithPrefix(classifier, "resnet.") + CountWithPrefix(classifier, "head."), 0);
  EXPECT_GT(CountWithPrefix(classifier, "fc."), 0);
  // Nothing but the encoder is left out by freezing it.
  EXPECT_EQ(everything.size() - CountWithPrefix(everything, "resnet."),
            head_and_classifier.size());
}

// Partial fine-tuning from stage k: the stem and stages before k are fixed.
TEST_F(FrozenPartsTest, FromBlockFreezesTheStemAndTheStagesBeforeIt) {
  v1::JobSpec finetune = Spec("finetune");
  finetune.mutable_finetune()->set_from_block(3);
  const Frozen frozen = FrozenParts(*FindJobKind("finetune"), finetune);
  EXPECT_EQ(frozen.encoder_blocks, 3);
  const std::set<std::string> trained = TrainedNames(*net_, 1, frozen);
  for (const char* fixed : {"resnet.net.0.", "resnet.net.1.", "resnet.net.2."}) {
    EXPECT_EQ(CountWithPrefix(trained, fixed), 0) << fixed;
  }
  for (const char* kept : {"resnet.net.3.", "resnet.net.4.", "head.", "fc."}) {
    EXPECT_GT(CountWithPrefix(trained, kept), 0) << kept;
  }
  EXPECT_TRUE(InFrozenEncoderBlock("resnet.net.2", frozen));
  EXPECT_FALSE(InFrozenEncoderBlock("resnet.net.3", frozen));
  EXPECT_FALSE(InFrozenEncoderBlock("head.layers.0.weight", frozen));
}

// Fixed blocks keep their batch-norm statistics through a training step;
// the trained stages update theirs.
TEST_F(FrozenPartsTest, FixedBlocksKeepTheirBatchNormStatistics) {
  Frozen frozen;
  frozen.encoder_blocks = 3;
  std::unique_ptr<Objective> objective = MakeClassifierObjective(net_, frozen);
  auto buffers = [&] {
    std::map<std::string, torch::Tensor> copy;
    for (const auto& item : net_->named_buffers()) copy[item.key()] = item.value().clone();
    return copy;
  };
  const std::map<std::string, torch::Tensor> before = buffers();
  net_->train();
  torch::manual_seed(1);
  auto out = objective->Forward(torch::rand({8, 1, 28, 28}), torch::randint(0, 10, {8}));
  ASSERT_TRUE(out.ok()) << out.status();
  int fixed = 0, moved = 0;
  for (const auto& [name, value] : buffers()) {
    if (name.find("running_mean") == std::string::npos) continue;
    const bool same = value.equal(before.at(name));
    if (InFrozenEncoderBlock(name, frozen)) {
      EXPECT_TRUE(same) << name;
      ++fixed;
    } else if (name.rfind("resnet.", 0) == 0) {
      EXPECT_FALSE(same) << name;
      ++moved;
    }
  }
  EXPECT_GT(fixed, 0);
  EXPECT_GT(moved, 0);
}

model::SimclrModel TinyNet() {
  model::ModelOptions options;
  options.resnet.depth = 18;
  options.resnet.width_multiplier = 0.0625;
  options.resnet.in_channels = 1;
  options.resnet.image_size = 28;
  options.proj_head_layers = 2;
  options.proj_dim = 8;
  return model::MakeSimclrModel(options).value();
}

// A pretraining objective with a memory, resumed from its StateDict after
// step 1, computes steps 2-4 bit for bit as the uninterrupted one.
TEST(PretrainMemoryTest, ResumedFromItsStateTheObjectiveRepeatsItsSteps) {
  torch::manual_seed(3);
  const std::vector<torch::Tensor> batches = {
      torch::rand({6, 2, 1, 28, 28}), torch::rand({6, 2, 1, 28, 28}),
      torch::rand({6, 2, 1, 28, 28}), torch::rand({6, 2, 1, 28, 28})};
  const torch::Tensor labels = torch::zeros({6}, torch::kLong);
  auto make = [](model::SimclrModel net) {
    MemoryOptions memory;
    memory.size = 24;  // two steps of 2 x 6 keys
    memory.momentum = 0.9;
    memory.key = TinyNet();
    return MakePretrainObjective(net, 0.2, nullptr, std::move(memory)).value();
  };
  // The "model update" between steps: a fixed nudge of every weight.
  auto step = [](model::SimclrModel& net, Objective& objective, const torch::Tensor& batch,
                 const torch::Tensor& labels) {
    net->train();
    const double loss = objective.Forward(batch, labels).value().loss.item<double>();
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) p.add_(0.01);
    return loss;
  };
  model::SimclrModel net = TinyNet();
  std::unique_ptr<Objective> uninterrupted = make(net);
  std::vector<double> losses;
  std::map<std::string, torch::Tensor> saved_state, saved_net;
  for (size_t i = 0; i < batches.size(); ++i) {
    losses.push_back(step(net, *uninterrupted, batches[i], labels));
    if (i == 0) {
      saved_state = uninterrupted->StateDict();
      for (const auto& item : net->named_parameters()) saved_net[item.key()] = item.value().clone();
      for (const auto& item : net->named_buffers()) saved_net[item.key()] = item.value().clone();
    }
  }
  EXPECT_EQ(saved_state.count("memory.queue"), 1u);

  // A network holding the weights saved after step 1.
  auto restored_net = [&saved_net] {
    model::SimclrModel restored = TinyNet();
    torch::NoGradGuard no_grad;
    for (auto& item : restored->named_parameters()) item.value().copy_(saved_net.at(item.key()));
    for (auto& item : restored->named_buffers()) item.value().copy_(saved_net.at(item.key()));
    return restored;
  };
  model::SimclrModel resumed_net = restored_net();
  std::unique_ptr<Objective> resumed = make(resumed_net);
  ASSERT_TRUE(resumed->LoadStateDict(saved_state).ok());
  for (size_t i = 1; i < batches.size(); ++i) {
    EXPECT_EQ(step(resumed_net, *resumed, batches[i], labels), losses[i]) << "step " << i + 1;
  }
  // Without the memory's state the steps differ.
  model::SimclrModel forgetful_net = restored_net();
  std::unique_ptr<Objective> forgetful = make(forgetful_net);
  EXPECT_NE(step(forgetful_net, *forgetful, batches[1], labels), losses[1]);
}

}  // namespace
}  // namespace simclr::worker
