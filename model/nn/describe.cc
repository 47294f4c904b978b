#include "model/nn/describe.h"

#include <array>

#include "common/status_macros.h"

namespace simclr::model {
namespace {

// Accumulates parameters and MACs while walking the network's layers at the
// current spatial size (square maps).
class Counter {
 public:
  explicit Counter(int64_t size) : size_(size) {}

  // A bias-free conv with padding (k - 1) / 2; updates the spatial size.
  void Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1) {
    const int64_t pad = (kernel - 1) / 2;
    size_ = (size_ + 2 * pad - kernel) / stride + 1;
    params_ += kernel * kernel * in * out;
    macs_ += size_ * size_ * kernel * kernel * in * out;
  }
  // A conv applied to a 1x1 map (the SK squeeze); leaves the size alone.
  void PointwiseOnVector(int64_t in, int64_t out) {
    params_ += in * out;
    macs_ += in * out;
  }
  void BatchNorm(int64_t channels, bool center = true) {
    params_ += center ? 2 * channels : channels;
  }
  void Linear(int64_t in, int64_t out, bool bias) {
    params_ += in * out + (bias ? out : 0);
    macs_ += in * out;
  }
  void MaxPool3x3Stride2() { size_ = (size_ + 2 - 3) / 2 + 1; }
  // Zero-pad right/bottom by one, then 2x2 average pool with `stride`.
  void PadAndAvgPool2x2(int64_t stride) { size_ = (size_ + 1 - 2) / stride + 1; }

  int64_t size() const { return size_; }
  void set_size(int64_t size) { size_ = size; }
  int64_t params() const { return params_; }
  int64_t macs() const { return macs_; }

 private:
  int64_t size_;
  int64_t params_ = 0;
  int64_t macs_ = 0;
};

void CountBlock(const ResNetOptions& o, int64_t in, int64_t width,
                int64_t stride, bool projection, Counter& c) {
  const bool bottleneck = UsesBottleneck(o.depth);
  const bool sk = UsesSelectiveKernels(o);
  const int64_t out = bottleneck ? 4 * width : width;
  const int64_t input_size = c.size();
  if (projection) {
    if (sk) {
      c.PadAndAvgPool2x2(stride);
      c.Conv(in, out, 1);
    } else {
      c.Conv(in, out, 1, stride);
    }
    c.BatchNorm(out);
    c.set_size(input_size);
  }
  if (bottleneck) {
    c.Conv(in, width, 1);
    c.BatchNorm(width);
    if (sk) {
      const int64_t squeeze = SkSqueezeChannels(width, o.sk_ratio);
      c.Conv(width, 2 * width, 3, stride);
      c.BatchNorm(2 * width);
      c.PointwiseOnVector(width, squeeze);
      c.BatchNorm(squeeze);
      c.PointwiseOnVector(squeeze, 2 * width);
    } else {
      c.Conv(width, width, 3, stride);
      c.BatchNorm(width);
    }
    c.Conv(width, out, 1);
    c.BatchNorm(out);
  } else {
    c.Conv(in, width, 3, stride);
    c.BatchNorm(width);
    c.Conv(width, width, 3);
    c.BatchNorm(width);
  }
}

}  // namespace

absl::StatusOr<ModelDescription> DescribeModel(const ModelOptions& options) {
  RETURN_IF_ERROR(ValidateModelOptions(options));
  const ResNetOptions& o = options.resnet;
  ModelDescription d;

  Counter enc(o.image_size);
  const int64_t stem = StemChannels(o);
  if (UsesSmallInputStem(o)) {
    enc.Conv(o.in_channels, stem, 3);
  } else if (UsesSelectiveKernels(o)) {
    const int64_t half = SkStemHalfChannels(o);
    enc.Conv(o.in_channels, half, 3, 2);
    enc.BatchNorm(half);
    enc.Conv(half, half, 3);
    enc.BatchNorm(half);
    enc.Conv(half, stem, 3);
  } else {
    enc.Conv(o.in_channels, stem, 7, 2);
  }
  enc.BatchNorm(stem);
  if (!UsesSmallInputStem(o)) enc.MaxPool3x3Stride2();

  const std::array<int, 4> blocks = BlocksPerStage(o.depth);
  int64_t in = stem;
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t width = StageWidth(stage, o.width_multiplier);
    for (int b = 0; b < blocks[stage]; ++b) {
      const bool first = b == 0;
      CountBlock(o, in, width, first && stage > 0 ? 2 : 1, first, enc);
      in = StageOutChannels(stage, o);
    }
  }
  d.num_features = in;
  d.encoder_params = enc.params();
  d.encoder_macs = enc.macs();
  d.encoder_feature_map_size = enc.size();

  Counter head(1);
  for (int k = 1; k <= options.proj_head_layers; ++k) {
    const bool last = k == options.proj_head_layers;
    const int64_t out = last ? options.proj_dim : d.num_features;
    head.Linear(d.num_features, out, /*bias=*/false);
    head.BatchNorm(out, /*center=*/!last);
  }
  d.head_params = head.params();
  d.head_macs = head.macs();

  if (options.num_classes > 0) {
    const bool from_last = options.from_head_layer == options.proj_head_layers &&
                           options.proj_head_layers > 0;
    const int64_t width = from_last ? options.proj_dim : d.num_features;
    Counter classifier(1);
    classifier.Linear(width, options.num_classes, /*bias=*/true);
    d.classifier_params = classifier.params();
    d.classifier_macs = classifier.macs();
  }

  d.total_params = d.encoder_params + d.head_params + d.classifier_params;
  d.macs_per_image = d.encoder_macs + d.head_macs + d.classifier_macs;
  d.flops_per_image = 2 * d.macs_per_image;
  return d;
}

}  // namespace simclr::model
