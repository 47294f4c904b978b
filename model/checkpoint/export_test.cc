// The exported file against PyTorch itself: testdata/export_check.py (run with
// /usr/bin/python3) opens it with torch.load, loads the encoder into
// torchvision's blocks under torchvision's names with strict=True, and must
// reproduce the network's outputs on the probe.
#include "model/checkpoint/export.h"

#include <cstdlib>
#include <string>
#include <vector>

#include <torch/serialize.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "model/nn/options.h"
#include "model/nn/simclr_model.h"

namespace simclr::model {
namespace {

struct Config {
  std::string name;
  int depth;
  double width;
  int64_t image_size;
  int head_layers;
  int64_t num_classes;
  int from_head_layer;
};

class ExportTest : public ::testing::TestWithParam<Config> {};

// Trains a few steps so that batch-norm statistics and weights are not at
// their initial values, then exports and checks the file in PyTorch.
TEST_P(ExportTest, TorchLoadsItIntoTorchvisionBlocksAndReproducesTheOutputs) {
  const Config& c = GetParam();
  torch::manual_seed(7);
  ModelOptions options;
  options.resnet.depth = c.depth;
  options.resnet.width_multiplier = c.width;
  options.resnet.image_size = c.image_size;
  options.resnet.in_channels = 3;
  options.proj_head_layers = c.head_layers;
  options.proj_dim = 16;
  options.num_classes = c.num_classes;
  options.from_head_layer = c.from_head_layer;
  auto model = MakeSimclrModel(options);
  ASSERT_TRUE(model.ok()) << model.status();
  torch::optim::SGD sgd((*model)->parameters(), torch::optim::SGDOptions(0.05));
  for (int step = 0; step < 3; ++step) {
    const auto out = (*model)->forward(torch::randn({8, 3, c.image_size, c.image_size}));
    torch::Tensor loss = out.embedding.pow(2).mean();
    if (out.logits.defined()) loss = loss + out.logits.pow(2).mean();
    sgd.zero_grad();
    loss.backward();
    sgd.step();
  }
  const std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", c.name, ".pt");
  ASSERT_TRUE(ExportForPyTorch(**model, path).ok());
  EXPECT_TRUE((*model)->is_training());  // restored after the probe

  const std::string script = absl::StrCat(std::getenv("TEST_SRCDIR"), "/",
                                          std::getenv("TEST_WORKSPACE"),
                                          "/model/checkpoint/testdata/export_check.py");
  const std::string command = absl::StrCat("/usr/bin/python3 ", script, " ", path);
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ExportTest,
    ::testing::Values(Config{"r18_small_classifier", 18, 0.125, 28, 2, 10, 1},
                      Config{"r50_imagenet_no_classifier", 50, 0.125, 64, 3, 0, 0},
                      Config{"r34_small_no_head", 34, 0.0625, 32, 0, 5, 0}),
    [](const auto& info) { return info.param.name; });

TEST(ExportNamesTest, MapsEveryEncoderNameToTorchvisions) {
  EXPECT_EQ(*TorchvisionName("net.0.0.weight", false), "conv1.weight");
  EXPECT_EQ(*TorchvisionName("net.0.1.0.running_var", false), "bn1.running_var");
  EXPECT_EQ(*TorchvisionName("net.2.blocks.1.net.2.weight", true), "layer2.1.conv2.weight");
  EXPECT_EQ(*TorchvisionName("net.4.blocks.0.net.5.0.weight", true), "layer4.0.bn3.weight");
  EXPECT_EQ(*TorchvisionName("net.1.blocks.0.net.3.0.bias", false), "layer1.0.bn2.bias");
  EXPECT_EQ(*TorchvisionName("net.3.blocks.0.projection.shortcut.weight", true),
            "layer3.0.downsample.0.weight");
  EXPECT_EQ(*TorchvisionName("net.3.blocks.0.projection.bn.0.num_batches_tracked", true),
            "layer3.0.downsample.1.num_batches_tracked");
  // Selective kernels have no counterpart.
  EXPECT_FALSE(TorchvisionName("net.0.4.weight", true).has_value());
  EXPECT_FALSE(TorchvisionName("net.1.blocks.0.projection.shortcut.2.weight", true).has_value());
  EXPECT_FALSE(TorchvisionName("net.1.blocks.0.net.2.main_conv.0.weight", true).has_value());
}

TEST(ExportNamesTest, RefusesSelectiveKernelNetworks) {
  ModelOptions options;
  options.resnet.depth = 50;
  options.resnet.width_multiplier = 0.0625;
  options.resnet.sk_ratio = 0.0625;
  options.resnet.image_size = 32;
  auto model = MakeSimclrModel(options);
  ASSERT_TRUE(model.ok());
  const absl::Status status =
      ExportForPyTorch(**model, absl::StrCat(std::getenv("TEST_TMPDIR"), "/sk.pt"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace simclr::model
