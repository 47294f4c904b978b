// Pixel operations behind the SimCLR augmentations and the image-folder
// reader, on plain float CHW buffers (no LibTorch: a 28x28 view costs a few
// microseconds, where a chain of small tensor ops would cost hundreds).
//
// Each operation follows torchvision 0.14's functional op on float tensors
// (torchvision/transforms/functional_tensor.py), which the tests use as the
// reference: values are in [0, 1] and every colour op clamps to [0, 1].
#ifndef SIMCLR_MODEL_AUGMENT_IMAGE_OPS_H_
#define SIMCLR_MODEL_AUGMENT_IMAGE_OPS_H_

#include <cstdint>
#include <vector>

namespace simclr::model {

// A float image, channel-major (CHW), values nominally in [0, 1].
// A plain value type; not thread-safe to mutate concurrently.
struct FloatImage {
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  std::vector<float> data;  // channels * height * width

  FloatImage() = default;
  FloatImage(int64_t c, int64_t h, int64_t w)
      : channels(c), height(h), width(w), data(c * h * w, 0.0f) {}

  float* plane(int64_t c) { return data.data() + c * height * width; }
  const float* plane(int64_t c) const { return data.data() + c * height * width; }
};

// uint8 CHW pixels -> [0, 1] floats (x / 255).
FloatImage FromUint8(const uint8_t* pixels, int64_t channels, int64_t height,
                     int64_t width);

// [0, 1] floats -> uint8 (round half away from zero after clamping).
std::vector<uint8_t> ToUint8(const FloatImage& image);

// Crops rows [top, top+crop_height) and columns [left, left+crop_width) and
// resizes the crop to out_height x out_width with bilinear interpolation,
// align_corners=false and no antialiasing (torch.nn.functional.interpolate;
// torchvision F.resized_crop(..., antialias=False)). The crop must lie inside
// the image and all sizes must be positive.
FloatImage ResizedCrop(const FloatImage& image, int64_t top, int64_t left,
                       int64_t crop_height, int64_t crop_width,
                       int64_t out_height, int64_t out_width);

// Mirrors columns in place.
void FlipHorizontal(FloatImage& image);

// clamp(factor * x, 0, 1).
void AdjustBrightness(FloatImage& image, float factor);

// clamp(factor * x + (1 - factor) * m, 0, 1), m the mean of the grayscale
// image (3 channels) or of all pixels (1 channel).
void AdjustContrast(FloatImage& image, float factor);

// Blends with the grayscale image: clamp(f * x + (1 - f) * gray, 0, 1).
// No-op for 1-channel images.
void AdjustSaturation(FloatImage& image, float factor);

// Rotates hue by `shift` (in turns, [-0.5, 0.5]) through HSV. No-op for
// 1-channel images.
void AdjustHue(FloatImage& image, float shift);

// Replaces every channel of a 3-channel image by 0.2989 R + 0.587 G + 0.114 B
// (channel count kept). No-op for 1-channel images.
void ToGrayscale(FloatImage& image);

// Normalised 1-D Gaussian taps at offsets -(k-1)/2 .. (k-1)/2; k odd, > 0.
std::vector<float> GaussianKernel1d(int kernel_size, double sigma);

// Separable Gaussian blur with reflect padding (torchvision
// F.gaussian_blur with kernel [k, k] and sigma [sigma, sigma]).
void GaussianBlur(FloatImage& image, int kernel_size, double sigma);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_AUGMENT_IMAGE_OPS_H_
