#include "model/augment/simclr_augment.h"

#include <cmath>
#include <cstdint>
#include <memory>

#include <ATen/TensorOperators.h>
#include <ATen/ops/allclose.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/full.h>

#include "gtest/gtest.h"

namespace simclr::model {
namespace {

std::unique_ptr<SimclrAugmenter> MakeAugmenter(AugmentOptions options) {
  auto augmenter = SimclrAugmenter::Create(options);
  EXPECT_TRUE(augmenter.ok()) << augmenter.status();
  return std::move(augmenter).value();
}

// A colourful uint8 [C, H, W] image whose pixels all differ.
at::Tensor TestImage(int64_t c, int64_t h, int64_t w) {
  return (at::arange(c * h * w, at::kLong) * 37 % 251).to(at::kByte).reshape({c, h, w});
}

TEST(SimclrAugmentTest, ViewIsAPureFunctionOfItsKey) {
  AugmentOptions options;
  options.seed = 11;
  auto augmenter = MakeAugmenter(options);
  const at::Tensor image = TestImage(3, 32, 32);
  const at::Tensor a = augmenter->Apply(image, 2, 17, 0).value();
  // Unrelated work in between (other samples, other epochs) changes nothing.
  (void)augmenter->Apply(TestImage(3, 32, 32) + 1, 2, 18, 0).value();
  (void)augmenter->ApplyViews(image, 3, 17, 4).value();
  const at::Tensor b = augmenter->Apply(image, 2, 17, 0).value();
  EXPECT_TRUE(at::equal(a, b));

  // ApplyViews' view v is Apply's view v.
  const at::Tensor views = augmenter->ApplyViews(image, 2, 17, 2).value();
  EXPECT_TRUE(at::equal(views[0], a));
  EXPECT_TRUE(at::equal(views[1], augmenter->Apply(image, 2, 17, 1).value()));

  // Every key component matters, and so does the seed.
  EXPECT_FALSE(at::equal(a, views[1]));
  EXPECT_FALSE(at::equal(a, augmenter->Apply(image, 3, 17, 0).value()));
  EXPECT_FALSE(at::equal(a, augmenter->Apply(image, 2, 16, 0).value()));
  options.seed = 12;
  EXPECT_FALSE(at::equal(a, MakeAugmenter(options)->Apply(image, 2, 17, 0).value()));
}

TEST(SimclrAugmentTest, CropBoxesStayInsideAreaAndRatioBounds) {
  AugmentOptions options;
  int small = 0, large = 0, wide = 0, tall = 0;
  for (int i = 0; i < 5000; ++i) {
    KeyedRandom rng({1, 0, static_cast<uint64_t>(i), 0});
    const CropBox box = SampleCropBox(224, 224, options, rng);
    ASSERT_GE(box.top, 0);
    ASSERT_GE(box.left, 0);
    ASSERT_LE(box.top + box.height, 224);
    ASSERT_LE(box.left + box.width, 224);
    const double area = box.height * box.width / (224.0 * 224.0);
    const double ratio = static_cast<double>(box.width) / box.height;
    // Rounding w and h to whole pixels moves area and ratio by < 2% here.
    EXPECT_GE(area, 0.08 * 0.98);
    EXPECT_LE(area, 1.0);
    EXPECT_GE(ratio, 0.75 * 0.98);
    EXPECT_LE(ratio, 4.0 / 3.0 * 1.02);
    small += area < 0.2;
    large += area > 0.8;
    wide += ratio > 1.25;
    tall += ratio < 0.8;
  }
  // The whole range is used, not just a corner of it.
  EXPECT_GT(small, 500);
  EXPECT_GT(large, 200);
  EXPECT_GT(wide, 300);
  EXPECT_GT(tall, 300);
}

TEST(SimclrAugmentTest, PretrainViewsAreFloatInUnitRangeWithRequestedSize) {
  AugmentOptions options;
  options.output_height = 24;
  options.output_width = 20;
  auto augmenter = MakeAugmenter(options);
  for (int64_t c : {1, 3}) {
    const at::Tensor views = augmenter->ApplyViews(TestImage(c, 28, 28), 0, 5, 2).value();
    EXPECT_EQ(views.scalar_type(), at::kFloat);
    EXPECT_EQ(views.sizes(), (at::IntArrayRef{2, c, 24, 20}));
    EXPECT_GE(views.min().item<float>(), 0.0f);
    EXPECT_LE(views.max().item<float>(), 1.0f);
  }
}

TEST(SimclrAugmentTest, FinetuneOnlyCropsAndFlipsWhilePretrainChangesColour) {
  const at::Tensor flat = at::full({3, 28, 28}, 100, at::kByte);
  AugmentOptions options;
  options.mode = AugmentMode::kFinetune;
  auto finetune = MakeAugmenter(options);
  options.mode = AugmentMode::kPretrain;
  auto pretrain = MakeAugmenter(options);
  int recoloured = 0;
  for (int64_t i = 0; i < 50; ++i) {
    // A crop of a flat image is the same flat image.
    const at::Tensor f = finetune->Apply(flat, 0, i, 0).value();
    EXPECT_NEAR(f.min().item<float>(), 100.0f / 255.0f, 1e-6f);
    EXPECT_NEAR(f.max().item<float>(), 100.0f / 255.0f, 1e-6f);
    const at::Tensor p = pretrain->Apply(flat, 0, i, 0).value();
    recoloured += std::abs(p.mean().item<float>() - 100.0f / 255.0f) > 1e-3f;
  }
  // Jitter fires with p = 0.8 (brightness always moves a flat image).
  EXPECT_GT(recoloured, 30);
}

TEST(SimclrAugmentTest, FinetuneFlipsAboutHalfTheViews) {
  AugmentOptions options;
  options.mode = AugmentMode::kFinetune;
  options.crop_area_min = 1.0;  // full-image crops: only the flip remains
  options.crop_ratio_min = 1.0;
  options.crop_ratio_max = 1.0;
  auto augmenter = MakeAugmenter(options);
  const at::Tensor image = TestImage(1, 8, 8);
  const at::Tensor original = image.to(at::kFloat) / 255.0;
  const at::Tensor mirrored = original.flip({2});
  int flipped = 0;
  for (int64_t i = 0; i < 400; ++i) {
    const at::Tensor v = augmenter->Apply(image, 0, i, 0).value();
    const bool is_flipped = at::allclose(v, mirrored);
    EXPECT_TRUE(is_flipped || at::allclose(v, original));
    flipped += is_flipped;
  }
  EXPECT_GT(flipped, 150);
  EXPECT_LT(flipped, 250);
}

TEST(SimclrAugmentTest, GrayscaleFiresAtItsProbability) {
  AugmentOptions options;
  options.jitter_probability = 0.0;
  options.blur_probability = 0.0;
  auto augmenter = MakeAugmenter(options);
  const at::Tensor image = TestImage(3, 16, 16);
  int gray = 0;
  for (int64_t i = 0; i < 1000; ++i) {
    const at::Tensor v = augmenter->Apply(image, 0, i, 0).value();
    gray += at::equal(v[0], v[1]) && at::equal(v[1], v[2]);
  }
  EXPECT_GT(gray, 160);
  EXPECT_LT(gray, 240);
}

TEST(SimclrAugmentTest, EvalWithFullCropIsTheScaledInput) {
  AugmentOptions options;
  options.mode = AugmentMode::kEval;
  auto augmenter = MakeAugmenter(options);
  const at::Tensor image = TestImage(3, 9, 7);
  const at::Tensor v = augmenter->Apply(image, 4, 2, 0).value();
  EXPECT_TRUE(at::allclose(v, image.to(at::kFloat) / 255.0, 0.0, 1e-7));
}

TEST(SimclrAugmentTest, EvalCentreCropTakesTheMiddle) {
  AugmentOptions options;
  options.mode = AugmentMode::kEval;
  options.eval_crop_fraction = 0.5;
  options.output_height = 4;
  options.output_width = 4;
  auto augmenter = MakeAugmenter(options);
  const at::Tensor image = TestImage(1, 8, 8);
  const at::Tensor v = augmenter->Apply(image, 0, 0, 0).value();
  // A 4x4 centre crop resized to 4x4 is rows/cols 2..5 exactly.
  const at::Tensor expected = image.slice(1, 2, 6).slice(2, 2, 6).to(at::kFloat) / 255.0;
  EXPECT_TRUE(at::allclose(v, expected, 0.0, 1e-7));
}

TEST(SimclrAugmentTest, BlurKernelIsTenPercentOfTheSideMadeOdd) {
  EXPECT_EQ(BlurKernelSize(224), 23);
  EXPECT_EQ(BlurKernelSize(96), 9);
  EXPECT_EQ(BlurKernelSize(32), 3);
  EXPECT_EQ(BlurKernelSize(28), 3);
  EXPECT_EQ(BlurKernelSize(16), 1);
}

TEST(SimclrAugmentTest, RejectsBadOptionsAndInputs) {
  AugmentOptions options;
  options.jitter_probability = 1.5;
  auto bad = SimclrAugmenter::Create(options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("jitter_probability"), std::string::npos);

  options = AugmentOptions();
  options.crop_area_min = 0.5;
  options.crop_area_max = 0.2;
  EXPECT_FALSE(SimclrAugmenter::Create(options).ok());
  options = AugmentOptions();
  options.output_height = 10;  // width left at 0
  EXPECT_FALSE(SimclrAugmenter::Create(options).ok());

  auto augmenter = MakeAugmenter(AugmentOptions());
  EXPECT_EQ(augmenter->Apply(TestImage(3, 8, 8).to(at::kFloat), 0, 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(augmenter->Apply(TestImage(2, 8, 8), 0, 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(augmenter->ApplyViews(TestImage(3, 8, 8), 0, 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SimclrAugmentTest, ParsesModeNames) {
  EXPECT_EQ(ParseAugmentMode("pretrain").value(), AugmentMode::kPretrain);
  EXPECT_EQ(ParseAugmentMode("finetune").value(), AugmentMode::kFinetune);
  EXPECT_EQ(ParseAugmentMode("eval").value(), AugmentMode::kEval);
  EXPECT_FALSE(ParseAugmentMode("train").ok());
}

}  // namespace
}  // namespace simclr::model
