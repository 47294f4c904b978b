// The SimCLRv2 projection head g(.): `num_layers` fully connected layers on
// the encoder features. Hidden layers are Linear(no bias)-BN-ReLU of the
// encoder's width; the last is Linear(no bias)-BN without beta, to proj_dim.
//
// Checkpoint names (NOTE [checkpoint names] in resnet.h): the port's
// ContrastiveHead keeps one ModuleList `layers` holding Linear, BN, ReLU per
// hidden layer and Linear, BN for the last, so layer k (1-based) owns
// `layers.{3(k-1)}.weight` (Linear) and `layers.{3(k-1)+1}.*` (BN). The port's
// last BN has a `bias` that is zero and never trained (its converter never
// writes it); ours has none, so an importer drops that one key after checking
// it is zero.
#ifndef SIMCLR_MODEL_NN_PROJECTION_HEAD_H_
#define SIMCLR_MODEL_NN_PROJECTION_HEAD_H_

#include <cstdint>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "model/distributed/batch_norm.h"
#include "model/nn/layer_sequence.h"

namespace simclr::model {

// Not thread-safe (like any Module). Linear weights start N(0, 0.01^2), as in
// the official implementation; BN gammas 1.
//
//   ProjectionHead head(/*in_features=*/2048, /*num_layers=*/3, /*proj_dim=*/128);
//   std::vector<torch::Tensor> outs = head->forward(features);  // outs[3]: [N, 128]
class ProjectionHeadImpl : public torch::nn::Module {
 public:
  // in_features >= 1, num_layers >= 0, proj_dim >= 1 (throws c10::Error
  // otherwise). num_layers == 0 is the identity.
  ProjectionHeadImpl(int64_t in_features, int num_layers, int64_t proj_dim);

  // x [N, in_features] -> num_layers + 1 tensors: [0] is x itself, [k] the
  // output of layer k (after its ReLU for hidden layers), so back() is the
  // projection and a classifier can read any layer.
  std::vector<torch::Tensor> forward(const torch::Tensor& x);

  int num_layers() const { return static_cast<int>(linears_.size()); }
  // Width of forward()[k]: in_features for k == 0 and k < num_layers, else
  // proj_dim (the last layer's output).
  int64_t output_width(int k) const;

 private:
  int64_t in_features_;
  int64_t proj_dim_;
  LayerSequence layers_{nullptr};  // registered for naming; forward walks below
  std::vector<torch::nn::Linear> linears_;
  std::vector<BatchNorm> norms_;
};
TORCH_MODULE(ProjectionHead);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_NN_PROJECTION_HEAD_H_
