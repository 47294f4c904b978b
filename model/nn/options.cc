#include "model/nn/options.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace simclr::model {

absl::Status ValidateResNetOptions(const ResNetOptions& options) {
  const int d = options.depth;
  if (d != 18 && d != 34 && d != 50 && d != 101 && d != 152) {
    return absl::InvalidArgumentError(absl::StrCat(
        "depth: got ", d, ", expected one of 18, 34, 50, 101, 152"));
  }
  const double w = options.width_multiplier;
  if (!(w >= kMinWidthMultiplier && w <= 3.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "width_multiplier: got ", w, ", expected a value in [0.0625, 3]"));
  }
  const double r = options.sk_ratio;
  if (!(r >= 0.0 && r <= 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sk_ratio: got ", r, ", expected 0 (no selective kernels) or a value in (0, 1]"));
  }
  if (options.in_channels < 1 || options.in_channels > 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "in_channels: got ", options.in_channels, ", expected 1 .. 64"));
  }
  if (options.image_size < 1 || options.image_size > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(
        "image_size: got ", options.image_size, ", expected 1 .. 4096"));
  }
  return absl::OkStatus();
}

absl::Status ValidateModelOptions(const ModelOptions& options) {
  if (absl::Status s = ValidateResNetOptions(options.resnet); !s.ok()) return s;
  if (options.proj_head_layers < 0 || options.proj_head_layers > 8) {
    return absl::InvalidArgumentError(absl::StrCat(
        "proj_head_layers: got ", options.proj_head_layers, ", expected 0 .. 8"));
  }
  if (options.proj_head_layers > 0 && options.proj_dim < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "proj_dim: got ", options.proj_dim, ", expected a positive width"));
  }
  if (options.num_classes < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "num_classes: got ", options.num_classes,
        ", expected 0 (no classifier) or a positive count"));
  }
  if (options.from_head_layer < 0 ||
      options.from_head_layer > options.proj_head_layers) {
    return absl::InvalidArgumentError(absl::StrCat(
        "from_head_layer: got ", options.from_head_layer, ", expected 0 .. ",
        options.proj_head_layers, " (proj_head_layers)"));
  }
  return absl::OkStatus();
}

bool UsesBottleneck(int depth) { return depth >= 50; }

std::array<int, 4> BlocksPerStage(int depth) {
  switch (depth) {
    case 18:
      return {2, 2, 2, 2};
    case 34:
    case 50:
      return {3, 4, 6, 3};
    case 101:
      return {3, 4, 23, 3};
    case 152:
      return {3, 8, 36, 3};
    default:
      return {0, 0, 0, 0};
  }
}

int64_t ScaledChannels(int64_t base, double width_multiplier) {
  return std::max<int64_t>(
      1, static_cast<int64_t>(std::llround(base * width_multiplier)));
}

int64_t StageWidth(int stage, double width_multiplier) {
  return ScaledChannels(int64_t{64} << stage, width_multiplier);
}

int64_t StageOutChannels(int stage, const ResNetOptions& options) {
  return StageWidth(stage, options.width_multiplier) *
         (UsesBottleneck(options.depth) ? 4 : 1);
}

int64_t EncoderFeatureWidth(const ResNetOptions& options) {
  return StageOutChannels(3, options);
}

int64_t StemChannels(const ResNetOptions& options) {
  return ScaledChannels(64, options.width_multiplier);
}

int64_t SkStemHalfChannels(const ResNetOptions& options) {
  return std::max<int64_t>(1, (StemChannels(options) + 1) / 2);
}

int64_t SkSqueezeChannels(int64_t channels, double sk_ratio) {
  return std::max<int64_t>(static_cast<int64_t>(channels * sk_ratio),
                           kSkMinSqueezeChannels);
}

bool UsesSmallInputStem(const ResNetOptions& options) {
  return options.image_size <= kSmallInputMaxSize;
}

bool UsesSelectiveKernels(const ResNetOptions& options) {
  return options.sk_ratio > 0.0;
}

}  // namespace simclr::model
