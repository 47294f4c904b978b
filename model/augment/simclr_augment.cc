#include "model/augment/simclr_augment.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <utility>

#include <ATen/ops/empty.h>
#include <c10/util/Exception.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace simclr::model {
namespace {

absl::Status CheckProbability(const char* field, double p) {
  if (!(p >= 0.0 && p <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("augment option ", field, " = ", p, "; expected a probability in [0, 1]"));
  }
  return absl::OkStatus();
}

absl::Status CheckRange(const char* field, double lo, double hi) {
  if (!(lo > 0.0 && lo <= hi && std::isfinite(hi))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "augment option ", field, " = [", lo, ", ", hi,
        "]; expected 0 < min <= max"));
  }
  return absl::OkStatus();
}

absl::Status CheckImage(const at::Tensor& image) {
  if (!image.defined() || image.scalar_type() != at::kByte || image.dim() != 3 ||
      (image.size(0) != 1 && image.size(0) != 3) || image.size(1) <= 0 ||
      image.size(2) <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "augment input must be a uint8 [C, H, W] tensor with C = 1 or 3; got ",
        image.defined() ? std::string(c10::toString(image.scalar_type()))
                        : std::string("an undefined tensor"),
        " [", image.defined() ? absl::StrJoin(image.sizes(), ", ") : std::string(), "]"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AugmentMode> ParseAugmentMode(absl::string_view name) {
  if (name == "pretrain") return AugmentMode::kPretrain;
  if (name == "finetune") return AugmentMode::kFinetune;
  if (name == "eval") return AugmentMode::kEval;
  return absl::InvalidArgumentError(absl::StrCat(
      "augment mode '", name, "'; expected pretrain, finetune or eval"));
}

CropBox SampleCropBox(int64_t height, int64_t width,
                      const AugmentOptions& options, KeyedRandom& rng) {
  const double area = static_cast<double>(height) * static_cast<double>(width);
  const double log_lo = std::log(options.crop_ratio_min);
  const double log_hi = std::log(options.crop_ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area =
        area * rng.Uniform(options.crop_area_min, options.crop_area_max);
    const double ratio = std::exp(rng.Uniform(log_lo, log_hi));
    // nearbyint rounds half to even, like Python's round().
    const auto w = static_cast<int64_t>(std::nearbyint(std::sqrt(target_area * ratio)));
    const auto h = static_cast<int64_t>(std::nearbyint(std::sqrt(target_area / ratio)));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      CropBox box;
      box.height = h;
      box.width = w;
      box.top = static_cast<int64_t>(rng.UniformInt(height - h + 1));
      box.left = static_cast<int64_t>(rng.UniformInt(width - w + 1));
      return box;
    }
  }
  CropBox box;
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  if (in_ratio < options.crop_ratio_min) {
    box.width = width;
    box.height = static_cast<int64_t>(std::nearbyint(width / options.crop_ratio_min));
  } else if (in_ratio > options.crop_ratio_max) {
    box.height = height;
    box.width = static_cast<int64_t>(std::nearbyint(height * options.crop_ratio_max));
  } else {
    box.height = height;
    box.width = width;
  }
  box.top = (height - box.height) / 2;
  box.left = (width - box.width) / 2;
  return box;
}

int BlurKernelSize(int64_t size) { return 2 * static_cast<int>(size / 20) + 1; }

absl::StatusOr<std::unique_ptr<SimclrAugmenter>> SimclrAugmenter::Create(
    const AugmentOptions& options) {
  if (options.output_height < 0 || options.output_width < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "augment output size ", options.output_height, "x", options.output_width,
        "; expected >= 0 (0 = input size)"));
  }
  if ((options.output_height == 0) != (options.output_width == 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "augment output size ", options.output_height, "x", options.output_width,
        "; set both or neither"));
  }
  if (!(options.crop_area_max <= 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "augment option crop_area_max = ", options.crop_area_max, "; expected <= 1"));
  }
  RETURN_IF_ERROR(CheckRange("crop_area", options.crop_area_min, options.crop_area_max));
  RETURN_IF_ERROR(CheckRange("crop_ratio", options.crop_ratio_min, options.crop_ratio_max));
  RETURN_IF_ERROR(CheckRange("blur_sigma", options.blur_sigma_min, options.blur_sigma_max));
  for (const auto& [field, p] : std::array<std::pair<const char*, double>, 4>{{
           {"flip_probability", options.flip_probability},
           {"jitter_probability", options.jitter_probability},
           {"grayscale_probability", options.grayscale_probability},
           {"blur_probability", options.blur_probability},
       }}) {
    RETURN_IF_ERROR(CheckProbability(field, p));
  }
  if (!(options.jitter_strength >= 0.0 && std::isfinite(options.jitter_strength))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "augment option jitter_strength = ", options.jitter_strength,
        "; expected a finite value >= 0"));
  }
  if (!(options.eval_crop_fraction > 0.0 && options.eval_crop_fraction <= 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "augment option eval_crop_fraction = ", options.eval_crop_fraction,
        "; expected (0, 1]"));
  }
  return std::unique_ptr<SimclrAugmenter>(new SimclrAugmenter(options));
}

void SimclrAugmenter::ColorJitter(FloatImage& image, KeyedRandom& rng) const {
  const double s = options_.jitter_strength;
  const double bcs = 0.8 * s;
  const double hue = 0.2 * s;
  // Factors are drawn for all four ops (so the stream does not depend on the
  // channel count), then applied in a random order, as in SimCLR.
  std::vector<int> order = {0, 1, 2, 3};
  rng.Shuffle(order);
  const float brightness = static_cast<float>(rng.Uniform(std::max(0.0, 1.0 - bcs), 1.0 + bcs));
  const float contrast = static_cast<float>(rng.Uniform(std::max(0.0, 1.0 - bcs), 1.0 + bcs));
  const float saturation = static_cast<float>(rng.Uniform(std::max(0.0, 1.0 - bcs), 1.0 + bcs));
  const float hue_shift = static_cast<float>(rng.Uniform(-hue, hue));
  for (int op : order) {
    switch (op) {
      case 0: AdjustBrightness(image, brightness); break;
      case 1: AdjustContrast(image, contrast); break;
      case 2: AdjustSaturation(image, saturation); break;  // no-op on 1 channel
      default: AdjustHue(image, hue_shift); break;         // no-op on 1 channel
    }
  }
}

FloatImage SimclrAugmenter::ApplyToImage(const FloatImage& image, int64_t epoch,
                                         int64_t index, int64_t view) const {
  const int64_t out_h = options_.output_height > 0 ? options_.output_height : image.height;
  const int64_t out_w = options_.output_width > 0 ? options_.output_width : image.width;
  KeyedRandom rng({options_.seed, static_cast<uint64_t>(epoch),
                   static_cast<uint64_t>(index), static_cast<uint64_t>(view)});

  if (options_.mode == AugmentMode::kEval) {
    const double f = options_.eval_crop_fraction;
    const int64_t h = std::max<int64_t>(1, std::llround(image.height * f));
    const int64_t w = std::max<int64_t>(1, std::llround(image.width * f));
    return ResizedCrop(image, (image.height - h) / 2, (image.width - w) / 2, h, w,
                       out_h, out_w);
  }

  const CropBox box = SampleCropBox(image.height, image.width, options_, rng);
  FloatImage out = ResizedCrop(image, box.top, box.left, box.height, box.width,
                               out_h, out_w);
  if (rng.Bernoulli(options_.flip_probability)) FlipHorizontal(out);
  if (options_.mode == AugmentMode::kFinetune) return out;

  if (rng.Bernoulli(options_.jitter_probability)) ColorJitter(out, rng);
  if (rng.Bernoulli(options_.grayscale_probability)) ToGrayscale(out);
  if (rng.Bernoulli(options_.blur_probability)) {
    const double sigma = rng.Uniform(options_.blur_sigma_min, options_.blur_sigma_max);
    GaussianBlur(out, BlurKernelSize(out_h), sigma);
  }
  // Blur of values in [0, 1] with normalised taps can leave [0, 1] only by
  // rounding; clamp so the contract holds exactly.
  for (float& v : out.data) v = std::min(1.0f, std::max(0.0f, v));
  return out;
}

absl::StatusOr<at::Tensor> SimclrAugmenter::ApplyViews(const at::Tensor& image,
                                                       int64_t epoch, int64_t index,
                                                       int64_t num_views) const {
  RETURN_IF_ERROR(CheckImage(image));
  if (num_views < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("augment num_views = ", num_views, "; expected >= 1"));
  }
  try {
    const at::Tensor source = image.contiguous();
    const FloatImage decoded = FromUint8(source.data_ptr<uint8_t>(), source.size(0),
                                         source.size(1), source.size(2));
    at::Tensor out;
    for (int64_t v = 0; v < num_views; ++v) {
      const FloatImage view = ApplyToImage(decoded, epoch, index, v);
      if (!out.defined()) {
        out = at::empty({num_views, view.channels, view.height, view.width}, at::kFloat);
      }
      std::memcpy(out.data_ptr<float>() + v * view.data.size(), view.data.data(),
                  view.data.size() * sizeof(float));
    }
    return out;
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("augmenting sample ", index, ": ", e.what_without_backtrace()));
  }
}

absl::StatusOr<at::Tensor> SimclrAugmenter::Apply(const at::Tensor& image, int64_t epoch,
                                                  int64_t index, int64_t view) const {
  if (view < 0) {
    return absl::InvalidArgumentError(absl::StrCat("augment view = ", view, "; expected >= 0"));
  }
  RETURN_IF_ERROR(CheckImage(image));
  try {
    const at::Tensor source = image.contiguous();
    const FloatImage decoded = FromUint8(source.data_ptr<uint8_t>(), source.size(0),
                                         source.size(1), source.size(2));
    const FloatImage result = ApplyToImage(decoded, epoch, index, view);
    at::Tensor out = at::empty({result.channels, result.height, result.width}, at::kFloat);
    std::memcpy(out.data_ptr<float>(), result.data.data(), result.data.size() * sizeof(float));
    return out;
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("augmenting sample ", index, ": ", e.what_without_backtrace()));
  }
}

std::function<absl::StatusOr<at::Tensor>(const at::Tensor& image, int64_t epoch,
                                         int64_t index)>
MakeAugmentTransform(std::shared_ptr<const SimclrAugmenter> augmenter,
                     int64_t num_views) {
  return [augmenter = std::move(augmenter), num_views](
             const at::Tensor& image, int64_t epoch,
             int64_t index) -> absl::StatusOr<at::Tensor> {
    if (num_views == 1) return augmenter->Apply(image, epoch, index, 0);
    return augmenter->ApplyViews(image, epoch, index, num_views);
  };
}

}  // namespace simclr::model
