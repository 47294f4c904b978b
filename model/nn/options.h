// Typed options for the SimCLRv2 networks and the architecture arithmetic they
// imply (stage widths, block counts, stem shape). Torch-free, so that tools
// such as `simclr-model describe` can reason about a network without building
// it or compiling LibTorch.
#ifndef SIMCLR_MODEL_NN_OPTIONS_H_
#define SIMCLR_MODEL_NN_OPTIONS_H_

#include <array>
#include <cstdint>

#include "absl/status/status.h"

namespace simclr::model {

// A ResNet encoder as in SimCLRv2 (Chen et al., 2020, Section 3 and the
// official TensorFlow implementation).
struct ResNetOptions {
  int depth = 50;                 // 18, 34 (basic blocks), 50, 101, 152 (bottlenecks)
  double width_multiplier = 1.0;  // 0.0625 .. 3; channels = max(1, round(64 * w)) etc.
  double sk_ratio = 0.0;          // 0: plain ResNet; > 0 (paper: 0.0625): selective kernels
  int64_t in_channels = 3;
  int64_t image_size = 224;       // <= kSmallInputMaxSize selects the small-input stem
};

// The narrowest network: 4 stem channels. Widths below the paper's 1x are our
// extension for small hardware (e.g. distilling into a smaller student on CPU).
inline constexpr double kMinWidthMultiplier = 0.0625;

// Images of at most this many pixels a side use the small-input stem (one
// 3x3 stride-1 conv, no max-pool), as the official code's CIFAR stem.
inline constexpr int64_t kSmallInputMaxSize = 64;

// The minimum width of the selective-kernel squeeze (the official `min_dim`).
inline constexpr int64_t kSkMinSqueezeChannels = 32;

// SimCLRv2 model: encoder + projection head + optional linear classifier.
struct ModelOptions {
  ResNetOptions resnet;
  int proj_head_layers = 3;  // 0 .. 8; 0 means no head (embedding = features)
  int64_t proj_dim = 128;    // output width of the head's last layer
  int64_t num_classes = 0;   // 0: no classifier
  // Where the classifier reads: 0 = encoder output, k = after head layer k.
  // SimCLRv2 fine-tunes from the first head layer (1).
  int from_head_layer = 0;
};

// OK, or InvalidArgument naming the field, its value and what was expected.
absl::Status ValidateResNetOptions(const ResNetOptions& options);
absl::Status ValidateModelOptions(const ModelOptions& options);

// Architecture arithmetic shared by the module builder (resnet.cc) and the
// analytic counter (describe.cc). Arguments are assumed valid.

// True for depth >= 50.
bool UsesBottleneck(int depth);
// Residual blocks in each of the four stages.
std::array<int, 4> BlocksPerStage(int depth);
// max(1, round(base * width_multiplier)).
int64_t ScaledChannels(int64_t base, double width_multiplier);
// The inner width of stage `stage` (0..3): ScaledChannels(64 << stage, w).
int64_t StageWidth(int stage, double width_multiplier);
// Channels a block of stage `stage` outputs: inner width x (4 or 1).
int64_t StageOutChannels(int stage, const ResNetOptions& options);
// Encoder feature width F (the last stage's output channels).
int64_t EncoderFeatureWidth(const ResNetOptions& options);
// Stem output channels: ScaledChannels(64, w).
int64_t StemChannels(const ResNetOptions& options);
// Width of the first two convs of the 3-conv SK stem: max(1, round(stem / 2)).
int64_t SkStemHalfChannels(const ResNetOptions& options);
// max(floor(channels * sk_ratio), kSkMinSqueezeChannels).
int64_t SkSqueezeChannels(int64_t channels, double sk_ratio);
bool UsesSmallInputStem(const ResNetOptions& options);
bool UsesSelectiveKernels(const ResNetOptions& options);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_NN_OPTIONS_H_
