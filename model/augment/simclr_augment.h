// SimCLR's data augmentations (Chen et al. 2020, "A Simple Framework for
// Contrastive Learning of Visual Representations", Appendix A; SimCLRv2 keeps
// them): random resized crop, horizontal flip, colour jitter, random
// grayscale and Gaussian blur for pretraining; crop and flip for
// fine-tuning; a centre crop (identity by default) for evaluation.
//
// Every random draw comes from a KeyedRandom keyed by
// (seed, epoch, sample index, view) -- see NOTE [keyed randomness] in
// model/data/keyed_random.h -- so a view is a pure function of its key and
// the source image: it does not depend on the rank, the loader thread, or the
// other samples of the batch.
//
// Output: float32 [C, H, W] in [0, 1], not mean/std normalised (the SimCLR
// reference feeds [0, 1] images to the network).
#ifndef SIMCLR_MODEL_AUGMENT_SIMCLR_AUGMENT_H_
#define SIMCLR_MODEL_AUGMENT_SIMCLR_AUGMENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/augment/image_ops.h"
#include "model/data/keyed_random.h"

namespace simclr::model {

enum class AugmentMode {
  kPretrain,  // crop, flip, colour jitter, grayscale, blur
  kFinetune,  // crop, flip
  kEval,      // centre crop of eval_crop_fraction, resized to the output size
};

// "pretrain" | "finetune" | "eval"; InvalidArgument otherwise.
absl::StatusOr<AugmentMode> ParseAugmentMode(absl::string_view name);

struct AugmentOptions {
  AugmentMode mode = AugmentMode::kPretrain;
  uint64_t seed = 0;
  // Output size; 0 means "same as the input".
  int64_t output_height = 0;
  int64_t output_width = 0;
  // Random resized crop: fraction of the image area and aspect ratio (w/h).
  double crop_area_min = 0.08;
  double crop_area_max = 1.0;
  double crop_ratio_min = 3.0 / 4.0;
  double crop_ratio_max = 4.0 / 3.0;
  double flip_probability = 0.5;
  // Colour jitter of strength s: brightness, contrast and saturation factors
  // uniform in [max(0, 1 - 0.8s), 1 + 0.8s], hue shift uniform in
  // [-0.2s, 0.2s], the four applied in a random order. 1-channel images get
  // brightness and contrast only.
  double jitter_probability = 0.8;
  double jitter_strength = 1.0;
  double grayscale_probability = 0.2;
  // Gaussian blur, kernel 2 * floor(size / 20) + 1 taps (10% of the image
  // side, made odd, as in the SimCLR reference), sigma uniform in
  // [blur_sigma_min, blur_sigma_max].
  double blur_probability = 0.5;
  double blur_sigma_min = 0.1;
  double blur_sigma_max = 2.0;
  // kEval: side fraction of the centre crop (SimCLR uses 0.875 on ImageNet).
  double eval_crop_fraction = 1.0;
};

// Where a random resized crop lands in the source image.
struct CropBox {
  int64_t top = 0;
  int64_t left = 0;
  int64_t height = 0;
  int64_t width = 0;
};

// torchvision's RandomResizedCrop.get_params, driven by `rng`: up to 10
// tries of area ~ U[area_min, area_max] * H * W and log-ratio ~
// U[log ratio_min, log ratio_max]; after 10 misses, the centre crop with
// the ratio clamped into range.
CropBox SampleCropBox(int64_t height, int64_t width,
                      const AugmentOptions& options, KeyedRandom& rng);

// Kernel size the blur uses for an image of side `size`.
int BlurKernelSize(int64_t size);

// Immutable after Create, hence thread-safe: loader threads share one.
//
//   ASSIGN_OR_RETURN(auto augmenter, SimclrAugmenter::Create(options));
//   ASSIGN_OR_RETURN(at::Tensor views, augmenter->ApplyViews(image, epoch, i, 2));
class SimclrAugmenter {
 public:
  // InvalidArgument naming the field for out-of-range probabilities,
  // non-positive or inverted crop ranges, negative sizes or strengths.
  static absl::StatusOr<std::unique_ptr<SimclrAugmenter>> Create(
      const AugmentOptions& options);

  const AugmentOptions& options() const { return options_; }

  // One view of a uint8 [C, H, W] image (C = 1 or 3) -> float [C, H', W'].
  // InvalidArgument for another dtype or shape.
  absl::StatusOr<at::Tensor> Apply(const at::Tensor& image, int64_t epoch,
                                   int64_t index, int64_t view) const;

  // Views 0..num_views-1 of one image stacked: float [num_views, C, H', W'].
  absl::StatusOr<at::Tensor> ApplyViews(const at::Tensor& image, int64_t epoch,
                                        int64_t index, int64_t num_views) const;

  // The same on a decoded image, without LibTorch (what Apply runs).
  FloatImage ApplyToImage(const FloatImage& image, int64_t epoch,
                          int64_t index, int64_t view) const;

 private:
  explicit SimclrAugmenter(const AugmentOptions& options) : options_(options) {}

  void ColorJitter(FloatImage& image, KeyedRandom& rng) const;

  AugmentOptions options_;
};

// Adapts an augmenter to the loader's per-sample transform: num_views == 1
// yields [C, H', W'], more yields [num_views, C, H', W'] (so a pretraining
// batch is [B, 2, C, H, W]).
std::function<absl::StatusOr<at::Tensor>(const at::Tensor& image,
                                         int64_t epoch, int64_t index)>
MakeAugmentTransform(std::shared_ptr<const SimclrAugmenter> augmenter,
                     int64_t num_views);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_AUGMENT_SIMCLR_AUGMENT_H_
