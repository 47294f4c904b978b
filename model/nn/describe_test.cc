#include "model/nn/describe.h"

#include <cmath>
#include <cstdint>

#include "gtest/gtest.h"
#include "model/nn/options.h"

namespace simclr::model {
namespace {

ModelOptions Options(int depth, double width, double sk_ratio,
                     int64_t image_size = 224) {
  ModelOptions o;
  o.resnet.depth = depth;
  o.resnet.width_multiplier = width;
  o.resnet.sk_ratio = sk_ratio;
  o.resnet.image_size = image_size;
  return o;
}

int64_t EncoderParams(int depth, double width, double sk_ratio) {
  absl::StatusOr<ModelDescription> d =
      DescribeModel(Options(depth, width, sk_ratio));
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? d->encoder_params : -1;
}

void ExpectWithin(double actual, double expected, double relative) {
  EXPECT_LE(std::abs(actual - expected), relative * expected)
      << "actual " << actual << " expected " << expected;
}

// SimCLRv2 (Chen et al., 2020), Table 1: encoder parameter counts.
TEST(DescribeTest, EncoderParamsMatchPaperTable1) {
  ExpectWithin(EncoderParams(50, 1, 0), 24e6, 0.03);
  ExpectWithin(EncoderParams(50, 1, 0.0625), 35e6, 0.03);
  ExpectWithin(EncoderParams(50, 2, 0.0625), 140e6, 0.03);
  ExpectWithin(EncoderParams(152, 2, 0.0625), 354e6, 0.03);
  ExpectWithin(EncoderParams(152, 3, 0.0625), 795e6, 0.03);
}

// torchvision's resnet50 without its fc: 25,557,032 - (2048 * 1000 + 1000).
TEST(DescribeTest, ResNet50ParamsEqualTorchvisionWithoutFc) {
  EXPECT_EQ(EncoderParams(50, 1, 0), 25557032 - 2049000);
}

// torchvision's resnet18 without its fc is 11,689,512 - (512 * 1000 + 1000).
// The official SimCLR code gives the first block of every stage a projection
// shortcut, stage 1 included (torchvision's stage 1 has none): + 64x64 conv
// + BN(64).
TEST(DescribeTest, ResNet18ParamsEqualTorchvisionPlusStage1Projection) {
  EXPECT_EQ(EncoderParams(18, 1, 0), 11689512 - 513000 + 64 * 64 + 2 * 64);
}

// The published cost of ResNet-50 at 224x224 is ~4.1e9 multiply-adds
// (He et al. 2016 quote 3.8e9 counting differently; 4.09e9 counting every
// conv and the fc, as here minus the fc's 2e6).
TEST(DescribeTest, ResNet50At224IsAbout4Point1GigaMacs) {
  absl::StatusOr<ModelDescription> d = DescribeModel(Options(50, 1, 0));
  ASSERT_TRUE(d.ok()) << d.status();
  ExpectWithin(static_cast<double>(d->encoder_macs), 4.1e9, 0.02);
  EXPECT_EQ(d->encoder_feature_map_size, 7);
}

TEST(DescribeTest, FlopsCountAMultiplyAddAsTwo) {
  absl::StatusOr<ModelDescription> d = DescribeModel(Options(18, 0.5, 0, 32));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->flops_per_image, 2 * d->macs_per_image);
  EXPECT_EQ(d->macs_per_image, d->encoder_macs + d->head_macs);
}

TEST(DescribeTest, HeadHasHiddenLayersOfEncoderWidthAndNoFinalBeta) {
  ModelOptions o = Options(50, 1, 0);
  o.proj_head_layers = 3;
  o.proj_dim = 128;
  absl::StatusOr<ModelDescription> d = DescribeModel(o);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->num_features, 2048);
  // 2 x (2048x2048 linear + gamma + beta) + 2048x128 linear + gamma.
  EXPECT_EQ(d->head_params, 2 * (2048 * 2048 + 2 * 2048) + 2048 * 128 + 128);
  EXPECT_EQ(d->head_macs, 2 * 2048 * 2048 + 2048 * 128);
}

TEST(DescribeTest, ClassifierWidthFollowsFromHeadLayer) {
  ModelOptions o = Options(18, 1, 0, 32);
  o.num_classes = 10;
  o.from_head_layer = 1;
  absl::StatusOr<ModelDescription> d = DescribeModel(o);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->classifier_params, 512 * 10 + 10);
  o.from_head_layer = 3;
  d = DescribeModel(o);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->classifier_params, 128 * 10 + 10);
}

TEST(DescribeTest, SmallInputStemKeepsResolution) {
  // 32x32 input, stride-1 stem, no max-pool: 32 -> 32 -> 16 -> 8 -> 4.
  absl::StatusOr<ModelDescription> d = DescribeModel(Options(18, 1, 0, 32));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->encoder_feature_map_size, 4);
}

TEST(DescribeTest, RejectsInvalidOptionsNamingTheField) {
  absl::StatusOr<ModelDescription> d = DescribeModel(Options(42, 1, 0));
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("depth"), std::string::npos);

  d = DescribeModel(Options(50, 4, 0));
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("width_multiplier"), std::string::npos);

  ModelOptions o = Options(50, 1, 0);
  o.from_head_layer = 4;
  d = DescribeModel(o);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("from_head_layer"), std::string::npos);
}

}  // namespace
}  // namespace simclr::model
