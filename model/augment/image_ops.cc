#include "model/augment/image_ops.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace simclr::model {
namespace {

inline float Clamp01(float x) { return std::min(1.0f, std::max(0.0f, x)); }

// Source index and weight of bilinear interpolation along one axis, as
// torch's upsample_bilinear2d computes them with align_corners=false.
struct Tap {
  int64_t i0;
  int64_t i1;
  float w0;
  float w1;
};

std::vector<Tap> BilinearTaps(int64_t in_size, int64_t out_size) {
  std::vector<Tap> taps(out_size);
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  for (int64_t o = 0; o < out_size; ++o) {
    float src = scale * (static_cast<float>(o) + 0.5f) - 0.5f;
    if (src < 0.0f) src = 0.0f;
    const int64_t i0 = static_cast<int64_t>(src);
    const int64_t step = i0 < in_size - 1 ? 1 : 0;
    const float lambda = src - static_cast<float>(i0);
    taps[o] = {i0, i0 + step, 1.0f - lambda, lambda};
  }
  return taps;
}

// Reflects an out-of-range index back inside [0, n) without repeating the
// edge ("reflect" padding), bouncing as often as needed for tiny images.
inline int64_t Reflect(int64_t i, int64_t n) {
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}

inline float Gray(float r, float g, float b) {
  return 0.2989f * r + 0.587f * g + 0.114f * b;
}

void Blend(FloatImage& image, float factor, const std::vector<float>& other,
           bool per_pixel_other) {
  const int64_t hw = image.height * image.width;
  for (int64_t c = 0; c < image.channels; ++c) {
    float* p = image.plane(c);
    for (int64_t i = 0; i < hw; ++i) {
      const float o = per_pixel_other ? other[i] : other[0];
      p[i] = Clamp01(factor * p[i] + (1.0f - factor) * o);
    }
  }
}

}  // namespace

FloatImage FromUint8(const uint8_t* pixels, int64_t channels, int64_t height,
                     int64_t width) {
  FloatImage image(channels, height, width);
  for (size_t i = 0; i < image.data.size(); ++i) {
    image.data[i] = static_cast<float>(pixels[i]) / 255.0f;
  }
  return image;
}

std::vector<uint8_t> ToUint8(const FloatImage& image) {
  std::vector<uint8_t> out(image.data.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint8_t>(std::lround(Clamp01(image.data[i]) * 255.0f));
  }
  return out;
}

FloatImage ResizedCrop(const FloatImage& image, int64_t top, int64_t left,
                       int64_t crop_height, int64_t crop_width,
                       int64_t out_height, int64_t out_width) {
  assert(top >= 0 && left >= 0 && crop_height > 0 && crop_width > 0);
  assert(top + crop_height <= image.height && left + crop_width <= image.width);
  FloatImage out(image.channels, out_height, out_width);
  const std::vector<Tap> rows = BilinearTaps(crop_height, out_height);
  const std::vector<Tap> cols = BilinearTaps(crop_width, out_width);
  for (int64_t c = 0; c < image.channels; ++c) {
    const float* src = image.plane(c);
    float* dst = out.plane(c);
    for (int64_t y = 0; y < out_height; ++y) {
      const Tap& r = rows[y];
      const float* row0 = src + (top + r.i0) * image.width + left;
      const float* row1 = src + (top + r.i1) * image.width + left;
      for (int64_t x = 0; x < out_width; ++x) {
        const Tap& t = cols[x];
        dst[y * out_width + x] =
            r.w0 * (t.w0 * row0[t.i0] + t.w1 * row0[t.i1]) +
            r.w1 * (t.w0 * row1[t.i0] + t.w1 * row1[t.i1]);
      }
    }
  }
  return out;
}

void FlipHorizontal(FloatImage& image) {
  for (int64_t c = 0; c < image.channels; ++c) {
    float* p = image.plane(c);
    for (int64_t y = 0; y < image.height; ++y) {
      std::reverse(p + y * image.width, p + (y + 1) * image.width);
    }
  }
}

void AdjustBrightness(FloatImage& image, float factor) {
  for (float& v : image.data) v = Clamp01(factor * v);
}

void AdjustContrast(FloatImage& image, float factor) {
  const int64_t hw = image.height * image.width;
  double sum = 0.0;
  if (image.channels == 3) {
    const float* r = image.plane(0);
    const float* g = image.plane(1);
    const float* b = image.plane(2);
    for (int64_t i = 0; i < hw; ++i) sum += Gray(r[i], g[i], b[i]);
    sum /= static_cast<double>(hw);
  } else {
    for (float v : image.data) sum += v;
    sum /= static_cast<double>(image.data.size());
  }
  Blend(image, factor, {static_cast<float>(sum)}, /*per_pixel_other=*/false);
}

void AdjustSaturation(FloatImage& image, float factor) {
  if (image.channels != 3) return;
  const int64_t hw = image.height * image.width;
  std::vector<float> gray(hw);
  const float* r = image.plane(0);
  const float* g = image.plane(1);
  const float* b = image.plane(2);
  for (int64_t i = 0; i < hw; ++i) gray[i] = Gray(r[i], g[i], b[i]);
  Blend(image, factor, gray, /*per_pixel_other=*/true);
}

void AdjustHue(FloatImage& image, float shift) {
  if (image.channels != 3) return;
  const int64_t hw = image.height * image.width;
  float* rp = image.plane(0);
  float* gp = image.plane(1);
  float* bp = image.plane(2);
  for (int64_t i = 0; i < hw; ++i) {
    const float r = rp[i], g = gp[i], b = bp[i];
    // RGB -> HSV, following torchvision's _rgb2hsv.
    const float maxc = std::max(r, std::max(g, b));
    const float minc = std::min(r, std::min(g, b));
    const bool flat = maxc == minc;
    const float cr = maxc - minc;
    const float s = cr / (flat ? 1.0f : maxc);
    const float divisor = flat ? 1.0f : cr;
    const float rc = (maxc - r) / divisor;
    const float gc = (maxc - g) / divisor;
    const float bc = (maxc - b) / divisor;
    float h;
    if (maxc == r) {
      h = bc - gc;
    } else if (maxc == g) {
      h = 2.0f + rc - bc;
    } else {
      h = 4.0f + gc - rc;
    }
    h = std::fmod(h / 6.0f + 1.0f, 1.0f);
    // Shift, wrapping into [0, 1) like Python's %.
    h = std::fmod(h + shift, 1.0f);
    if (h < 0.0f) h += 1.0f;
    // HSV -> RGB, following torchvision's _hsv2rgb.
    const float v = maxc;
    const float h6 = h * 6.0f;
    const float fi = std::floor(h6);
    const float f = h6 - fi;
    int sector = static_cast<int>(fi) % 6;
    if (sector < 0) sector += 6;
    const float p = Clamp01(v * (1.0f - s));
    const float q = Clamp01(v * (1.0f - s * f));
    const float t = Clamp01(v * (1.0f - s * (1.0f - f)));
    float nr, ng, nb;
    switch (sector) {
      case 0: nr = v; ng = t; nb = p; break;
      case 1: nr = q; ng = v; nb = p; break;
      case 2: nr = p; ng = v; nb = t; break;
      case 3: nr = p; ng = q; nb = v; break;
      case 4: nr = t; ng = p; nb = v; break;
      default: nr = v; ng = p; nb = q; break;
    }
    rp[i] = nr;
    gp[i] = ng;
    bp[i] = nb;
  }
}

void ToGrayscale(FloatImage& image) {
  if (image.channels != 3) return;
  const int64_t hw = image.height * image.width;
  float* r = image.plane(0);
  float* g = image.plane(1);
  float* b = image.plane(2);
  for (int64_t i = 0; i < hw; ++i) {
    const float l = Gray(r[i], g[i], b[i]);
    r[i] = l;
    g[i] = l;
    b[i] = l;
  }
}

std::vector<float> GaussianKernel1d(int kernel_size, double sigma) {
  std::vector<float> kernel(kernel_size);
  const double half = (kernel_size - 1) * 0.5;
  double sum = 0.0;
  std::vector<double> pdf(kernel_size);
  for (int i = 0; i < kernel_size; ++i) {
    const double x = (i - half) / sigma;
    pdf[i] = std::exp(-0.5 * x * x);
    sum += pdf[i];
  }
  for (int i = 0; i < kernel_size; ++i) {
    kernel[i] = static_cast<float>(pdf[i] / sum);
  }
  return kernel;
}

void GaussianBlur(FloatImage& image, int kernel_size, double sigma) {
  if (kernel_size <= 1) return;
  const std::vector<float> k = GaussianKernel1d(kernel_size, sigma);
  const int64_t radius = kernel_size / 2;
  const int64_t h = image.height;
  const int64_t w = image.width;
  std::vector<float> tmp(h * w);
  for (int64_t c = 0; c < image.channels; ++c) {
    float* p = image.plane(c);
    // Horizontal pass into tmp, then vertical pass back into p.
    for (int64_t y = 0; y < h; ++y) {
      const float* row = p + y * w;
      for (int64_t x = 0; x < w; ++x) {
        float acc = 0.0f;
        for (int64_t j = -radius; j <= radius; ++j) {
          acc += k[j + radius] * row[Reflect(x + j, w)];
        }
        tmp[y * w + x] = acc;
      }
    }
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x) {
        float acc = 0.0f;
        for (int64_t j = -radius; j <= radius; ++j) {
          acc += k[j + radius] * tmp[Reflect(y + j, h) * w + x];
        }
        p[y * w + x] = acc;
      }
    }
  }
}

}  // namespace simclr::model
