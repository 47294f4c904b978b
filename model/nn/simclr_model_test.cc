#include "model/nn/simclr_model.h"

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "model/nn/options.h"
#include "model/nn/projection_head.h"

namespace simclr::model {
namespace {

ModelOptions SmallOptions() {
  ModelOptions o;
  o.resnet.depth = 18;
  o.resnet.width_multiplier = 0.125;
  o.resnet.image_size = 32;
  o.proj_head_layers = 3;
  o.proj_dim = 16;
  return o;
}

TEST(ProjectionHeadTest, ReturnsInputAndEveryLayerOutput) {
  torch::manual_seed(0);
  ProjectionHead head(/*in_features=*/12, /*num_layers=*/3, /*proj_dim=*/5);
  torch::Tensor x = torch::randn({6, 12});
  std::vector<torch::Tensor> outs = head->forward(x);
  ASSERT_EQ(outs.size(), 4u);
  EXPECT_TRUE(outs[0].equal(x));
  EXPECT_EQ(outs[1].sizes().vec(), (std::vector<int64_t>{6, 12}));
  EXPECT_EQ(outs[2].sizes().vec(), (std::vector<int64_t>{6, 12}));
  EXPECT_EQ(outs[3].sizes().vec(), (std::vector<int64_t>{6, 5}));
  // Hidden layers end in ReLU; the last is BN without beta (train mode: each
  // column has zero batch mean, and can be negative).
  EXPECT_GE(outs[1].min().item<float>(), 0.0f);
  EXPECT_LT(outs[3].min().item<float>(), 0.0f);
  EXPECT_LT(outs[3].mean(0).abs().max().item<float>(), 1e-5f);
}

TEST(ProjectionHeadTest, LayersMatchFloat64Recomputation) {
  torch::manual_seed(1);
  ProjectionHead head(8, 2, 4);
  head->eval();
  torch::Tensor x = torch::randn({5, 8});
  std::vector<torch::Tensor> outs = head->forward(x);
  // Eval mode with fresh statistics: BN(y) = y / sqrt(1 + eps) (beta 0).
  std::vector<torch::Tensor> weights;
  for (const auto& p : head->named_parameters()) {
    if (p.value().dim() == 2) weights.push_back(p.value().to(torch::kFloat64));
  }
  ASSERT_EQ(weights.size(), 2u);
  const double scale = 1.0 / std::sqrt(1.0 + 1e-5);
  torch::Tensor h1 = (x.to(torch::kFloat64).matmul(weights[0].t()) * scale).relu();
  torch::Tensor h2 = h1.matmul(weights[1].t()) * scale;
  EXPECT_TRUE(torch::allclose(outs[1].to(torch::kFloat64), h1, 1e-5, 1e-7));
  EXPECT_TRUE(torch::allclose(outs[2].to(torch::kFloat64), h2, 1e-5, 1e-7));
}

TEST(ProjectionHeadTest, ZeroLayersIsIdentity) {
  ProjectionHead head(8, 0, 4);
  torch::Tensor x = torch::randn({2, 8});
  std::vector<torch::Tensor> outs = head->forward(x);
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_TRUE(outs[0].equal(x));
  EXPECT_TRUE(head->parameters().empty());
  EXPECT_EQ(head->output_width(0), 8);  // the input's width, not proj_dim
}

TEST(SimclrModelTest, EmbeddingAndLogitsHaveConfiguredWidths) {
  torch::manual_seed(0);
  ModelOptions o = SmallOptions();
  o.num_classes = 10;
  o.from_head_layer = 1;
  absl::StatusOr<SimclrModel> made = MakeSimclrModel(o);
  ASSERT_TRUE(made.ok()) << made.status();
  SimclrModel model = *made;
  torch::Tensor x = torch::randn({4, 3, 32, 32});
  SimclrModelImpl::Outputs out = model->forward(x);
  EXPECT_EQ(out.features.sizes().vec(), (std::vector<int64_t>{4, 64}));
  ASSERT_EQ(out.head_outputs.size(), 4u);
  EXPECT_EQ(out.embedding.sizes().vec(), (std::vector<int64_t>{4, 16}));
  EXPECT_EQ(out.logits.sizes().vec(), (std::vector<int64_t>{4, 10}));
  // The classifier reads head layer 1.
  EXPECT_EQ(model->classifier()->weight.sizes().vec(), (std::vector<int64_t>{10, 64}));
  torch::NoGradGuard no_grad;
  model->eval();
  SimclrModelImpl::Outputs eval_out = model->forward(x);
  EXPECT_TRUE(torch::allclose(model->Logits(x), eval_out.logits));
  EXPECT_TRUE(torch::allclose(
      model->ClassifierLogits(eval_out.head_outputs[1]), eval_out.logits));
  EXPECT_TRUE(torch::allclose(model->Embedding(x), eval_out.embedding));
}

TEST(SimclrModelTest, ClassifierFromLastHeadLayerReadsProjection) {
  ModelOptions o = SmallOptions();
  o.num_classes = 3;
  o.from_head_layer = 3;
  absl::StatusOr<SimclrModel> made = MakeSimclrModel(o);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ((*made)->classifier()->weight.size(1), 16);
}

// A network without a projection head (proj_head_layers 0, e.g. a supervised
// baseline) classifies the encoder's features.
TEST(SimclrModelTest, ClassifierWithoutAHeadReadsTheFeatures) {
  ModelOptions o = SmallOptions();
  o.proj_head_layers = 0;
  o.num_classes = 5;
  absl::StatusOr<SimclrModel> made = MakeSimclrModel(o);
  ASSERT_TRUE(made.ok()) << made.status();
  const int64_t features = (*made)->encoder()->num_features();
  EXPECT_EQ((*made)->classifier()->weight.size(1), features);
  EXPECT_EQ((*made)->forward(torch::randn({2, 3, 32, 32})).logits.sizes(),
            (std::vector<int64_t>{2, 5}));
}

TEST(SimclrModelTest, ParameterGroupsSeparateWeightsFromNormAndBias) {
  ModelOptions o = SmallOptions();
  o.num_classes = 10;
  absl::StatusOr<SimclrModel> made = MakeSimclrModel(o);
  ASSERT_TRUE(made.ok()) << made.status();
  SimclrModel model = *made;
  std::vector<ParameterGroup> groups = model->ParameterGroups();
  ASSERT_EQ(groups.size(), 6u);
  int64_t grouped = 0;
  for (const ParameterGroup& g : groups) {
    ASSERT_EQ(g.names.size(), g.params.size());
    for (size_t i = 0; i < g.names.size(); ++i) {
      grouped += g.params[i].numel();
      const std::string& name = g.names[i];
      const bool bn_or_bias = absl::EndsWith(name, ".bias") ||
                              g.params[i].dim() == 1;
      EXPECT_EQ(g.is_weight, !bn_or_bias) << name;
    }
  }
  EXPECT_EQ(groups[0].part, ModelPart::kEncoder);
  EXPECT_TRUE(groups[0].is_weight);
  EXPECT_EQ(groups[0].names[0], "resnet.net.0.0.weight");
  EXPECT_EQ(groups[2].part, ModelPart::kHead);
  EXPECT_EQ(groups[2].names[0], "head.layers.0.weight");
  EXPECT_EQ(groups[5].part, ModelPart::kClassifier);
  EXPECT_EQ(groups[5].names, (std::vector<std::string>{"fc.bias"}));
  int64_t total = 0;
  for (const torch::Tensor& p : model->parameters()) total += p.numel();
  EXPECT_EQ(grouped, total);
}

TEST(SimclrModelTest, WithoutClassifierLogitsThrowAndGroupsOmitIt) {
  absl::StatusOr<SimclrModel> made = MakeSimclrModel(SmallOptions());
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_FALSE((*made)->has_classifier());
  EXPECT_THROW((*made)->Logits(torch::randn({2, 3, 32, 32})), c10::Error);
  EXPECT_EQ((*made)->ParameterGroups().size(), 4u);
}

TEST(SimclrModelTest, UseChannelsLastRestridesAGrayscaleStemAndKeepsTheOutputs) {
  ModelOptions o = SmallOptions();
  o.resnet.in_channels = 1;  // the stem's weight is [C, 1, 3, 3]: NOTE [channels last]
  torch::manual_seed(5);
  absl::StatusOr<SimclrModel> nchw = MakeSimclrModel(o);
  torch::manual_seed(5);
  absl::StatusOr<SimclrModel> nhwc = MakeSimclrModel(o);
  ASSERT_TRUE(nchw.ok() && nhwc.ok());
  UseChannelsLast(**nhwc);
  int restrided = 0;
  for (const torch::Tensor& p : (*nhwc)->parameters()) {
    if (p.dim() != 4) continue;
    EXPECT_EQ(p.suggest_memory_format(), at::MemoryFormat::ChannelsLast) << p.sizes();
    ++restrided;
  }
  EXPECT_EQ(restrided, 21);  // ResNet-18: the stem, 16 block and 4 projection convs
  (*nchw)->eval();
  (*nhwc)->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::rand({4, 1, 32, 32});
  // The first convolution already runs NHWC, so every feature map is NHWC.
  EXPECT_EQ((*nhwc)->encoder()->FeatureMap(x).suggest_memory_format(),
            at::MemoryFormat::ChannelsLast);
  EXPECT_LE(((*nhwc)->Embedding(x) - (*nchw)->Embedding(x)).abs().max().item<double>(), 1e-5);
}

TEST(SimclrModelTest, MakeRejectsClassifierPastTheHead) {
  ModelOptions o = SmallOptions();
  o.num_classes = 10;
  o.from_head_layer = 4;
  absl::StatusOr<SimclrModel> made = MakeSimclrModel(o);
  EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(made.status().message(), "from_head_layer"));
}

}  // namespace
}  // namespace simclr::model
