// SimclrModel: the SimCLRv2 network as trained and served here, an encoder
// f (ResNet), a projection head g and an optional linear classifier that
// reads the encoder output (from_head_layer 0, linear evaluation) or the
// output of a head layer (SimCLRv2 fine-tunes from head layer 1).
#ifndef SIMCLR_MODEL_NN_SIMCLR_MODEL_H_
#define SIMCLR_MODEL_NN_SIMCLR_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "absl/status/statusor.h"
#include "model/nn/options.h"
#include "model/nn/projection_head.h"
#include "model/nn/resnet.h"

namespace simclr::model {

enum class ModelPart { kEncoder, kHead, kClassifier };

// A set of parameters an optimizer treats alike.
struct ParameterGroup {
  ModelPart part;
  // True for conv / linear weight matrices: weight decay and LARS trust-ratio
  // adaptation apply. False for BN gammas/betas and biases, which SimCLR
  // excludes from both.
  bool is_weight;
  std::vector<std::string> names;  // as in named_parameters(), same order
  std::vector<torch::Tensor> params;
};

// Submodules (state_dict prefixes): `resnet` (ResNetImpl), `head`
// (ProjectionHeadImpl) and, with num_classes > 0, `fc` (Linear with bias).
// A converted SimCLRv2 checkpoint {'resnet': R, 'head': H} maps as
//   R["net.*"] -> "resnet.net.*",  R["fc.*"] -> "fc.*" (from_head_layer 0,
//   num_classes 1000),  H["layers.*"] -> "head.layers.*"
// (see NOTE [checkpoint names] in resnet.h).
//
// Not thread-safe (like any Module). Construct with MakeSimclrModel to get a
// Status on bad options; the constructor throws c10::Error.
class SimclrModelImpl : public torch::nn::Module {
 public:
  explicit SimclrModelImpl(const ModelOptions& options);

  struct Outputs {
    torch::Tensor features;  // encoder output h, [N, F]
    // Head outputs: [0] = features, [k] = after head layer k.
    std::vector<torch::Tensor> head_outputs;
    torch::Tensor embedding;  // head_outputs.back(): the contrastive z
    torch::Tensor logits;     // [N, num_classes]; undefined without classifier
  };

  // x [N, in_channels, H, W]. The classifier reads head_outputs[
  // from_head_layer] as is; callers that must not train the encoder through
  // the classifier (SimCLR's linear head during pretraining) detach it
  // themselves or use ClassifierLogits on a detached input.
  Outputs forward(const torch::Tensor& x);

  // Contrastive embedding z = g(f(x)), [N, proj_dim] (features if no head).
  torch::Tensor Embedding(const torch::Tensor& x);
  // Classifier logits, running the head only up to from_head_layer.
  // Throws c10::Error when the model has no classifier.
  torch::Tensor Logits(const torch::Tensor& x);
  // The classifier on an already computed representation [N, width].
  torch::Tensor ClassifierLogits(const torch::Tensor& representation);

  // Parameter groups by part and kind; empty groups are left out. Order:
  // encoder, head, classifier; weights before BN/bias within a part.
  std::vector<ParameterGroup> ParameterGroups();

  const ModelOptions& options() const { return options_; }
  bool has_classifier() const { return !fc_.is_empty(); }
  ResNet& encoder() { return resnet_; }
  ProjectionHead& head() { return head_; }
  torch::nn::Linear& classifier() { return fc_; }

 private:
  ModelOptions options_;
  ResNet resnet_{nullptr};
  ProjectionHead head_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(SimclrModel);

// Validates `options` (InvalidArgument naming the field) and builds the
// model; a LibTorch failure while building becomes Internal.
absl::StatusOr<SimclrModel> MakeSimclrModel(const ModelOptions& options);

// NOTE [channels last]
// oneDNN's CPU convolutions and cuDNN's bf16 ones run faster on NHWC
// ("channels_last") tensors: a convolution's output is NHWC when its input or
// its weight is, and batch norm, ReLU and the residual adds keep the layout,
// so storing the weights NHWC moves the whole network. Measured on a 2-core
// Xeon, fp32, 1 thread, ResNet-18 w0.125 on 512 views of 28x28: forward and
// backward 0.41-0.44 s NHWC vs 0.61-0.74 s NCHW (docs/performance.md).
// Tensor::contiguous(ChannelsLast) does not suffice: a tensor whose channel
// dimension has size 1 (the first convolution of a grayscale network,
// [C, 1, k, k]) counts as contiguous in both layouts and keeps its NCHW
// strides, and that convolution then runs NCHW. UseChannelsLast restrides
// every 4-D parameter and buffer of `module` explicitly; the values are
// unchanged, and checkpoints are written contiguous whatever the layout.
// The price: LibTorch 1.13's channels-last batch-norm statistics (training
// mode, and batch_norm_update_stats, which global batch norm uses) sum in
// float32, about 1e-5 relative error in the mean of 400,000 values and 1e-4
// in the variance, against 3e-8 and 5e-8 NCHW: well below bf16's rounding
// and SGD's noise, but world sizes 1 and 2 then agree to about 1e-5, not
// 1e-7. A job's train.channels_last: false keeps NCHW and exact statistics.
void UseChannelsLast(torch::nn::Module& module);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_NN_SIMCLR_MODEL_H_
