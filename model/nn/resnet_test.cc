#include "model/nn/resnet.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "model/distributed/batch_norm.h"
#include "model/nn/describe.h"
#include "model/nn/options.h"

namespace simclr::model {
namespace {

ResNetOptions Options(int depth, double width, double sk_ratio,
                      int64_t image_size) {
  ResNetOptions o;
  o.depth = depth;
  o.width_multiplier = width;
  o.sk_ratio = sk_ratio;
  o.image_size = image_size;
  return o;
}

ResNet Build(const ResNetOptions& o) {
  absl::StatusOr<ResNet> net = MakeResNet(o);
  EXPECT_TRUE(net.ok()) << net.status();
  return *net;
}

std::map<std::string, std::vector<int64_t>> ParameterShapes(ResNet& net) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& p : net->named_parameters()) {
    shapes[p.key()] = p.value().sizes().vec();
  }
  return shapes;
}

int64_t CountParameters(torch::nn::Module& module) {
  int64_t n = 0;
  for (const torch::Tensor& p : module.parameters()) n += p.numel();
  return n;
}

class ResNetDepthTest : public ::testing::TestWithParam<int> {};

TEST_P(ResNetDepthTest, SmallInputFeaturesHaveEncoderWidth) {
  torch::manual_seed(0);
  const int depth = GetParam();
  ResNet net = Build(Options(depth, 0.125, 0.0, 32));
  const int64_t expected = depth >= 50 ? 4 * 64 : 64;  // round(512 * 0.125) x 4 or 1
  EXPECT_EQ(net->num_features(), expected);
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({2, 3, 32, 32});
  EXPECT_EQ(net->forward(x).sizes().vec(), (std::vector<int64_t>{2, expected}));
  // Stride-1 stem, no max-pool: 32 -> 32, 16, 8, 4.
  EXPECT_EQ(net->FeatureMap(x).sizes().vec(),
            (std::vector<int64_t>{2, expected, 4, 4}));
}

TEST_P(ResNetDepthTest, BuiltParameterCountEqualsAnalyticCount) {
  const int depth = GetParam();
  for (double sk : {0.0, 0.0625}) {
    ResNetOptions o = Options(depth, 0.25, sk, 224);
    ResNet net = Build(o);
    ModelOptions m;
    m.resnet = o;
    absl::StatusOr<ModelDescription> d = DescribeModel(m);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(CountParameters(*net), d->encoder_params) << "sk " << sk;
  }
}

INSTANTIATE_TEST_SUITE_P(Depths, ResNetDepthTest,
                         ::testing::Values(18, 34, 50, 101, 152));

TEST(ResNetTest, ImageNetStemDownsamplesBy32) {
  torch::manual_seed(0);
  for (double sk : {0.0, 0.0625}) {
    ResNet net = Build(Options(50, 0.125, sk, 224));
    torch::NoGradGuard no_grad;
    torch::Tensor map = net->FeatureMap(torch::randn({1, 3, 224, 224}));
    EXPECT_EQ(map.sizes().vec(), (std::vector<int64_t>{1, 256, 7, 7})) << sk;
  }
}

TEST(ResNetTest, ResNet50OneXHasCheckpointNamesAndShapes) {
  ResNet net = Build(Options(50, 1.0, 0.0, 224));
  auto shapes = ParameterShapes(net);
  EXPECT_EQ(shapes["net.0.0.weight"], (std::vector<int64_t>{64, 3, 7, 7}));
  EXPECT_EQ(shapes["net.0.1.0.weight"], (std::vector<int64_t>{64}));
  EXPECT_EQ(shapes["net.1.blocks.0.projection.shortcut.weight"],
            (std::vector<int64_t>{256, 64, 1, 1}));
  EXPECT_EQ(shapes["net.2.blocks.0.net.2.weight"],
            (std::vector<int64_t>{128, 128, 3, 3}));
  EXPECT_EQ(shapes["net.4.blocks.2.net.4.weight"],
            (std::vector<int64_t>{2048, 512, 1, 1}));
  EXPECT_EQ(shapes["net.4.blocks.2.net.5.0.bias"], (std::vector<int64_t>{2048}));
  EXPECT_EQ(shapes.count("net.1.blocks.1.projection.shortcut.weight"), 0u);
  EXPECT_EQ(net->num_features(), 2048);
  // Buffers carry the port's names too.
  std::map<std::string, torch::Tensor> buffers;
  for (const auto& b : net->named_buffers()) buffers[b.key()] = b.value();
  EXPECT_EQ(buffers.count("net.1.blocks.0.projection.bn.0.running_var"), 1u);
  EXPECT_EQ(buffers.count("net.4.blocks.2.net.5.0.num_batches_tracked"), 1u);
}

TEST(ResNetTest, SelectiveKernelNetHasThreeConvStemAndAvgPoolShortcut) {
  ResNet net = Build(Options(50, 1.0, 0.0625, 224));
  auto shapes = ParameterShapes(net);
  EXPECT_EQ(shapes["net.0.0.weight"], (std::vector<int64_t>{32, 3, 3, 3}));
  EXPECT_EQ(shapes["net.0.2.weight"], (std::vector<int64_t>{32, 32, 3, 3}));
  EXPECT_EQ(shapes["net.0.4.weight"], (std::vector<int64_t>{64, 32, 3, 3}));
  EXPECT_EQ(shapes["net.0.5.0.weight"], (std::vector<int64_t>{64}));
  EXPECT_EQ(shapes["net.1.blocks.0.projection.shortcut.2.weight"],
            (std::vector<int64_t>{256, 64, 1, 1}));
  EXPECT_EQ(shapes["net.1.blocks.0.net.2.main_conv.0.weight"],
            (std::vector<int64_t>{128, 64, 3, 3}));
  // Squeeze width max(64 * 0.0625, 32) = 32 in stage 1, 512 * 0.0625 in stage 4.
  EXPECT_EQ(shapes["net.1.blocks.0.net.2.mixing_conv.0.weight"],
            (std::vector<int64_t>{32, 64, 1, 1}));
  EXPECT_EQ(shapes["net.4.blocks.0.net.2.mixing_conv.2.weight"],
            (std::vector<int64_t>{1024, 32, 1, 1}));
  EXPECT_EQ(shapes["net.4.blocks.0.net.3.weight"],
            (std::vector<int64_t>{2048, 512, 1, 1}));
}

TEST(ResNetTest, LastBatchNormOfEveryBlockStartsWithZeroGamma) {
  for (int depth : {18, 50}) {
    ResNet net = Build(Options(depth, 0.125, 0.0625, 32));
    int blocks = 0;
    for (const Blocks& stage : net->stages()) {
      for (const ResidualBlock& block : stage->block_list()) {
        ++blocks;
        std::vector<std::shared_ptr<BatchNormImpl>> norms;
        for (const auto& m : block->modules(/*include_self=*/false)) {
          if (auto bn = std::dynamic_pointer_cast<BatchNormImpl>(m)) norms.push_back(bn);
        }
        // modules() is depth-first in registration order: projection BN
        // (if any) first, the block's last BN last.
        ASSERT_FALSE(norms.empty());
        EXPECT_EQ(norms.back()->weight.abs().max().item<float>(), 0.0f);
        for (size_t i = 0; i + 1 < norms.size(); ++i) {
          EXPECT_EQ(norms[i]->weight.min().item<float>(), 1.0f);
          EXPECT_DOUBLE_EQ(norms[i]->options().eps, 1e-5);
        }
      }
    }
    EXPECT_EQ(blocks, depth == 18 ? 8 : 16);
  }
}

TEST(ResNetTest, SelectiveKernelAttentionSumsToOneOverPaths) {
  torch::manual_seed(0);
  SelectiveKernel sk(8, 16, /*stride=*/2, /*sk_ratio=*/0.0625);
  sk->train();
  torch::Tensor x = torch::randn({3, 8, 10, 10});
  auto [out, attention] = sk->ForwardWithAttention(x);
  EXPECT_EQ(out.sizes().vec(), (std::vector<int64_t>{3, 16, 5, 5}));
  EXPECT_EQ(attention.sizes().vec(), (std::vector<int64_t>{2, 3, 16, 1, 1}));
  EXPECT_TRUE(torch::allclose(attention.sum(0), torch::ones({3, 16, 1, 1})));
  EXPECT_GT(attention.min().item<float>(), 0.0f);
  // The attention is input dependent, not a constant 0.5.
  EXPECT_GT((attention - 0.5).abs().max().item<float>(), 1e-3);
}

TEST(ResNetTest, OddWidthMultiplierRoundsChannels) {
  ResNet net = Build(Options(18, 0.3, 0.0, 32));
  auto shapes = ParameterShapes(net);
  EXPECT_EQ(shapes["net.0.0.weight"], (std::vector<int64_t>{19, 3, 3, 3}));  // round(19.2)
  EXPECT_EQ(net->num_features(), 154);                                        // round(153.6)
}

TEST(ResNetTest, MakeResNetRejectsBadOptionsNamingTheField) {
  absl::StatusOr<ResNet> net = MakeResNet(Options(51, 1.0, 0.0, 224));
  EXPECT_EQ(net.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(net.status().message(), "depth"));
  net = MakeResNet(Options(50, 0.05, 0.0, 224));  // below the 0.0625 minimum
  EXPECT_EQ(net.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(net.status().message(), "width_multiplier"));
  net = MakeResNet(Options(50, 1.0, -0.5, 224));
  EXPECT_EQ(net.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(net.status().message(), "sk_ratio"));
}

}  // namespace
}  // namespace simclr::model
