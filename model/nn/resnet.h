// The SimCLRv2 ResNet encoder: ResNet-18/34 (basic blocks) and 50/101/152
// (bottleneck blocks), any width multiplier, optional selective kernels
// (SK-ResNet, Li et al. 2019, as used by SimCLRv2) with the ResNet-D
// average-pool shortcut and 3-conv stem.
//
// NOTE [checkpoint names]
// Submodules are registered under the names and positions of the public
// PyTorch port of the SimCLRv2 checkpoints (Separius/SimCLRv2-Pytorch,
// resnet.py), so a converted state_dict maps 1:1 onto named_parameters() and
// named_buffers() of ResNetImpl. The port builds everything from
// torch.nn.Sequential / ModuleList, which name children by position, and a
// parameterless child (ReLU, Identity, MaxPool, ZeroPad, AvgPool) still takes
// a position. Writing BNR for "BatchNormRelu" = Sequential(BN at 0, ReLU or
// Identity at 1), whose keys are `<bnr>.0.{weight,bias,running_mean,
// running_var,num_batches_tracked}`:
//
//   net.0                        stem (Sequential)
//     ImageNet, no SK:           0 conv7x7/2 (in->C), 1 BNR, 2 maxpool3/2
//     ImageNet, SK (3 convs):    0 conv3x3/2 (in->C/2), 1 BNR, 2 conv3x3 (C/2->C/2),
//                                3 BNR, 4 conv3x3 (C/2->C), 5 BNR, 6 maxpool3/2
//     small input (our analogue of the official CIFAR stem):
//                                0 conv3x3/1 (in->C), 1 BNR
//   net.{1,2,3,4}.blocks.{j}     stage 1..4, block j (Blocks.blocks ModuleList)
//     .projection.shortcut.weight          (first block, no SK: 1x1/s conv)
//     .projection.shortcut.2.weight        (first block, SK: 0 ZeroPad(0,1,0,1),
//                                           1 AvgPool2x2/s, 2 conv1x1)
//     .projection.bn.0.*                   shortcut BN (no ReLU)
//     .net.*  bottleneck, no SK: 0 conv1x1, 1 BNR, 2 conv3x3/s, 3 BNR,
//                                4 conv1x1 (->4W), 5 BNR (gamma 0, no ReLU)
//             bottleneck, SK:    0 conv1x1, 1 BNR, 2 SelectiveKernel,
//                                3 conv1x1 (->4W), 4 BNR (gamma 0, no ReLU)
//             basic (18/34; our analogue, the port has no basic block):
//                                0 conv3x3/s, 1 BNR, 2 conv3x3, 3 BNR (gamma 0)
//     SelectiveKernel: main_conv = Sequential(0 conv3x3/s (W->2W), 1 BNR),
//                      mixing_conv = Sequential(0 conv1x1 (W->S), 1 BNR,
//                                               2 conv1x1 (S->2W))
//
// The port's ResNet also owns `fc` (Linear(F, 1000), the supervised head);
// our encoder does not: SimclrModel's classifier `fc` takes those keys (see
// simclr_model.h). Conv weights are [out, in, kh, kw] on both sides; the port
// uses symmetric padding (k-1)/2, as here.
//
// As in the official TensorFlow code, selective kernels replace the 3x3 conv
// of bottleneck blocks only; for depth 18/34 sk_ratio > 0 switches on the SK
// stem and the ResNet-D shortcut but leaves basic blocks' convs plain.
#ifndef SIMCLR_MODEL_NN_RESNET_H_
#define SIMCLR_MODEL_NN_RESNET_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "absl/status/statusor.h"
#include "model/nn/layer_sequence.h"
#include "model/nn/options.h"

namespace simclr::model {

// Selective-kernel convolution: one 3x3 conv to 2C channels (+BN+ReLU) whose
// halves are two paths; a squeeze of the paths' sum (global average pool, 1x1
// conv to S = max(C * sk_ratio, 32), BN, ReLU, 1x1 conv to 2C) gives per-path
// logits and a softmax over the two paths weights their sum. Not thread-safe.
class SelectiveKernelImpl : public torch::nn::Module {
 public:
  SelectiveKernelImpl(int64_t in_channels, int64_t out_channels,
                      int64_t stride, double sk_ratio);

  // x [N, in, H, W] -> [N, out, H', W'].
  torch::Tensor forward(const torch::Tensor& x);

  // As forward, also returning the attention over paths, [2, N, out, 1, 1]
  // (sums to 1 over dim 0).
  std::pair<torch::Tensor, torch::Tensor> ForwardWithAttention(
      const torch::Tensor& x);

 private:
  LayerSequence main_conv_{nullptr};
  LayerSequence mixing_conv_{nullptr};
};
TORCH_MODULE(SelectiveKernel);

// The projection shortcut of a stage's first block: `shortcut` (a strided
// 1x1 conv, or with SK the ResNet-D form: zero-pad right/bottom by 1, 2x2
// average pool with the stride, 1x1 conv) then `bn` (BN, no ReLU).
// Not thread-safe.
class ProjectionImpl : public torch::nn::Module {
 public:
  ProjectionImpl(int64_t in_channels, int64_t out_channels, int64_t stride,
                 bool avg_pool_shortcut);

  torch::Tensor forward(const torch::Tensor& x);

 private:
  LayerSequenceImpl::Step shortcut_;
  LayerSequence bn_{nullptr};
};
TORCH_MODULE(Projection);

// One residual block, basic (two 3x3 convs) or bottleneck (1x1, 3x3 or SK,
// 1x1 to 4x width), with an optional projection shortcut; output is
// relu(shortcut(x) + net(x)). The last BN of `net` starts with gamma = 0, so
// the block starts as (relu of) its shortcut. Not thread-safe.
class ResidualBlockImpl : public torch::nn::Module {
 public:
  struct Config {
    int64_t in_channels = 0;
    int64_t width = 0;  // inner width W; bottlenecks output 4W
    int64_t stride = 1;
    bool bottleneck = true;
    double sk_ratio = 0.0;
    bool use_projection = false;
  };
  explicit ResidualBlockImpl(const Config& config);

  torch::Tensor forward(const torch::Tensor& x);

  // The block's SelectiveKernel, or nullptr when it has none.
  SelectiveKernelImpl* selective_kernel() const { return sk_; }

 private:
  Projection projection_{nullptr};  // null: identity shortcut
  LayerSequence net_{nullptr};
  SelectiveKernelImpl* sk_ = nullptr;  // owned by net_
};
TORCH_MODULE(ResidualBlock);

// A stage: `blocks`, a ModuleList of ResidualBlocks, the first of which
// carries the stride and the projection. Not thread-safe.
class BlocksImpl : public torch::nn::Module {
 public:
  BlocksImpl(int num_blocks, const ResidualBlockImpl::Config& first);

  torch::Tensor forward(const torch::Tensor& x);

  const std::vector<ResidualBlock>& block_list() const { return blocks_; }

 private:
  torch::nn::ModuleList list_{nullptr};
  std::vector<ResidualBlock> blocks_;
};
TORCH_MODULE(Blocks);

// The encoder: forward(x [N, in_channels, H, W]) -> features [N, F] after
// global average pooling, F = EncoderFeatureWidth(options). Every BN is a
// simclr::model::BatchNorm (eps 1e-5), so SetBatchNormProcessGroup makes the
// encoder's statistics global across a gang. Conv weights start He-normal
// (fan_out); BN gammas 1 except the last BN of every block (0).
//
// Not thread-safe (like any Module); use one replica per thread. The
// constructor throws c10::Error on invalid options: call MakeResNet to get a
// Status instead.
class ResNetImpl : public torch::nn::Module {
 public:
  explicit ResNetImpl(const ResNetOptions& options);

  torch::Tensor forward(const torch::Tensor& x);
  // The last stage's output before global pooling, [N, F, h, w].
  torch::Tensor FeatureMap(const torch::Tensor& x);

  const ResNetOptions& options() const { return options_; }
  int64_t num_features() const { return num_features_; }
  // The four stages, in order.
  const std::vector<Blocks>& stages() const { return stages_; }

 private:
  ResNetOptions options_;
  int64_t num_features_ = 0;
  LayerSequence net_{nullptr};
  std::vector<Blocks> stages_;
};
TORCH_MODULE(ResNet);

// Validates `options` (InvalidArgument naming the field) and builds the
// encoder; a LibTorch failure while building becomes Internal.
absl::StatusOr<ResNet> MakeResNet(const ResNetOptions& options);

// Building blocks shared with the projection head.
// BatchNorm (eps 1e-5) at position 0, then ReLU at position 1 if `relu`.
LayerSequence BatchNormRelu(int64_t channels, bool relu,
                            bool zero_init_gamma = false);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_NN_RESNET_H_
