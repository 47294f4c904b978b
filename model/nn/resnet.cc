#include "model/nn/resnet.h"

#include <exception>
#include <string>
#include <utility>

#include <torch/nn/init.h>
#include <torch/nn/modules/conv.h>

#include "absl/strings/str_cat.h"
#include "model/distributed/batch_norm.h"

namespace simclr::model {
namespace {

// A bias-free conv with symmetric padding (k - 1) / 2, He-normal (fan_out).
torch::nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel,
                       int64_t stride = 1) {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(in, out, kernel)
                             .stride(stride)
                             .padding((kernel - 1) / 2)
                             .bias(false));
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(conv->weight, /*a=*/0, torch::kFanOut,
                                   torch::kReLU);
  return conv;
}

torch::Tensor Relu(const torch::Tensor& x) { return torch::relu(x); }

torch::Tensor MaxPool3x3Stride2(const torch::Tensor& x) {
  return torch::max_pool2d(x, /*kernel_size=*/{3, 3}, /*stride=*/{2, 2},
                           /*padding=*/{1, 1});
}

}  // namespace

LayerSequence BatchNormRelu(int64_t channels, bool relu, bool zero_init_gamma) {
  BatchNormOptions options;
  options.num_features = channels;
  options.eps = 1e-5;
  options.zero_init_gamma = zero_init_gamma;
  LayerSequence seq;
  seq->Add(BatchNorm(options).ptr());
  // Position 1 is ReLU, or Identity in the port: either way no state.
  seq->AddStateless(relu ? LayerSequenceImpl::Step(Relu)
                         : [](const torch::Tensor& x) { return x; });
  return seq;
}

SelectiveKernelImpl::SelectiveKernelImpl(int64_t in_channels,
                                         int64_t out_channels, int64_t stride,
                                         double sk_ratio) {
  const int64_t squeeze = SkSqueezeChannels(out_channels, sk_ratio);
  main_conv_ = register_module("main_conv", LayerSequence());
  main_conv_->Add(Conv(in_channels, 2 * out_channels, 3, stride).ptr());
  main_conv_->Add(BatchNormRelu(2 * out_channels, /*relu=*/true).ptr());
  mixing_conv_ = register_module("mixing_conv", LayerSequence());
  mixing_conv_->Add(Conv(out_channels, squeeze, 1).ptr());
  mixing_conv_->Add(BatchNormRelu(squeeze, /*relu=*/true).ptr());
  mixing_conv_->Add(Conv(squeeze, 2 * out_channels, 1).ptr());
}

std::pair<torch::Tensor, torch::Tensor> SelectiveKernelImpl::ForwardWithAttention(
    const torch::Tensor& x) {
  // paths: [2, N, C, H, W], one slice per half of the 2C conv output.
  torch::Tensor paths = torch::stack(main_conv_->forward(x).chunk(2, 1), 0);
  torch::Tensor squeezed = paths.sum(0).mean({2, 3}, /*keepdim=*/true);
  torch::Tensor logits = torch::stack(mixing_conv_->forward(squeezed).chunk(2, 1), 0);
  torch::Tensor attention = torch::softmax(logits, 0);
  return {(paths * attention).sum(0), attention};
}

torch::Tensor SelectiveKernelImpl::forward(const torch::Tensor& x) {
  return ForwardWithAttention(x).first;
}

ProjectionImpl::ProjectionImpl(int64_t in_channels, int64_t out_channels,
                               int64_t stride, bool avg_pool_shortcut) {
  if (avg_pool_shortcut) {
    // ResNet-D: average pooling does the striding, the 1x1 conv sees every
    // input pixel. Padding right/bottom by one keeps H' = ceil(H / stride).
    LayerSequence shortcut;
    shortcut->AddStateless([](const torch::Tensor& x) {
      return torch::constant_pad_nd(x, {0, 1, 0, 1}, 0);
    });
    shortcut->AddStateless([stride](const torch::Tensor& x) {
      return torch::avg_pool2d(x, {2, 2}, {stride, stride});
    });
    shortcut->Add(Conv(in_channels, out_channels, 1).ptr());
    LayerSequenceImpl* raw = register_module("shortcut", shortcut).get();
    shortcut_ = [raw](const torch::Tensor& x) { return raw->forward(x); };
  } else {
    torch::nn::Conv2dImpl* raw =
        register_module("shortcut", Conv(in_channels, out_channels, 1, stride))
            .get();
    shortcut_ = [raw](const torch::Tensor& x) { return raw->forward(x); };
  }
  bn_ = register_module("bn", BatchNormRelu(out_channels, /*relu=*/false));
}

torch::Tensor ProjectionImpl::forward(const torch::Tensor& x) {
  return bn_->forward(shortcut_(x));
}

ResidualBlockImpl::ResidualBlockImpl(const Config& config) {
  const int64_t w = config.width;
  const int64_t out = config.bottleneck ? 4 * w : w;
  const bool sk = config.sk_ratio > 0.0;
  if (config.use_projection) {
    projection_ = register_module(
        "projection", Projection(config.in_channels, out, config.stride, sk));
  }
  net_ = register_module("net", LayerSequence());
  if (config.bottleneck) {
    net_->Add(Conv(config.in_channels, w, 1).ptr());
    net_->Add(BatchNormRelu(w, true).ptr());
    if (sk) {
      sk_ = net_->Add(SelectiveKernel(w, w, config.stride, config.sk_ratio).ptr())
                .get();
    } else {
      net_->Add(Conv(w, w, 3, config.stride).ptr());
      net_->Add(BatchNormRelu(w, true).ptr());
    }
    net_->Add(Conv(w, out, 1).ptr());
  } else {
    net_->Add(Conv(config.in_channels, w, 3, config.stride).ptr());
    net_->Add(BatchNormRelu(w, true).ptr());
    net_->Add(Conv(w, w, 3).ptr());
  }
  net_->Add(BatchNormRelu(out, /*relu=*/false, /*zero_init_gamma=*/true).ptr());
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor shortcut = projection_ ? projection_->forward(x) : x;
  return torch::relu(shortcut + net_->forward(x));
}

BlocksImpl::BlocksImpl(int num_blocks, const ResidualBlockImpl::Config& first) {
  list_ = register_module("blocks", torch::nn::ModuleList());
  ResidualBlockImpl::Config config = first;
  config.use_projection = true;
  const int64_t out = config.bottleneck ? 4 * config.width : config.width;
  for (int i = 0; i < num_blocks; ++i) {
    ResidualBlock block(config);
    list_->push_back(block.ptr());
    blocks_.push_back(block);
    config.in_channels = out;
    config.stride = 1;
    config.use_projection = false;
  }
}

torch::Tensor BlocksImpl::forward(const torch::Tensor& input) {
  torch::Tensor x = input;
  for (ResidualBlock& block : blocks_) x = block->forward(x);
  return x;
}

ResNetImpl::ResNetImpl(const ResNetOptions& options) : options_(options) {
  const absl::Status valid = ValidateResNetOptions(options);
  TORCH_CHECK(valid.ok(), "invalid ResNetOptions: ", valid.ToString());
  const int64_t stem_channels = StemChannels(options);
  const bool sk = UsesSelectiveKernels(options);

  LayerSequence stem;
  if (UsesSmallInputStem(options)) {
    stem->Add(Conv(options.in_channels, stem_channels, 3).ptr());
    stem->Add(BatchNormRelu(stem_channels, true).ptr());
  } else {
    if (sk) {
      const int64_t half = SkStemHalfChannels(options);
      stem->Add(Conv(options.in_channels, half, 3, 2).ptr());
      stem->Add(BatchNormRelu(half, true).ptr());
      stem->Add(Conv(half, half, 3).ptr());
      stem->Add(BatchNormRelu(half, true).ptr());
      stem->Add(Conv(half, stem_channels, 3).ptr());
    } else {
      stem->Add(Conv(options.in_channels, stem_channels, 7, 2).ptr());
    }
    stem->Add(BatchNormRelu(stem_channels, true).ptr());
    stem->AddStateless(MaxPool3x3Stride2);
  }

  net_ = register_module("net", LayerSequence());
  net_->Add(stem.ptr());
  const std::array<int, 4> blocks = BlocksPerStage(options.depth);
  int64_t in_channels = stem_channels;
  for (int stage = 0; stage < 4; ++stage) {
    ResidualBlockImpl::Config first;
    first.in_channels = in_channels;
    first.width = StageWidth(stage, options.width_multiplier);
    first.stride = stage == 0 ? 1 : 2;
    first.bottleneck = UsesBottleneck(options.depth);
    first.sk_ratio = options.sk_ratio;
    Blocks stage_blocks(blocks[stage], first);
    net_->Add(stage_blocks.ptr());
    stages_.push_back(stage_blocks);
    in_channels = StageOutChannels(stage, options);
  }
  num_features_ = in_channels;
}

torch::Tensor ResNetImpl::FeatureMap(const torch::Tensor& x) {
  return net_->forward(x);
}

torch::Tensor ResNetImpl::forward(const torch::Tensor& x) {
  return FeatureMap(x).mean({2, 3});
}

absl::StatusOr<ResNet> MakeResNet(const ResNetOptions& options) {
  if (absl::Status s = ValidateResNetOptions(options); !s.ok()) return s;
  try {
    return ResNet(options);
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("building ResNet-", options.depth, ": ", e.what()));
  }
}

}  // namespace simclr::model
