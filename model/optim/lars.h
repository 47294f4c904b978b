// LARS (You, Gitman, Ginsburg 2017, "Large Batch Training of Convolutional
// Networks") with the update rule of the official SimCLR implementation, and
// plain momentum SGD behind the same Optimizer interface.
#ifndef SIMCLR_MODEL_OPTIM_LARS_H_
#define SIMCLR_MODEL_OPTIM_LARS_H_

#include <memory>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "absl/status/statusor.h"
#include "model/optim/optimizer.h"

namespace simclr::model {

struct LarsOptions {
  double momentum = 0.9;
  double eta = 0.001;          // trust coefficient
  double weight_decay = 1e-6;  // the paper's pretraining value
};

// NOTE [LARS update]
// Per parameter w with gradient g, for a group not excluded from adaptation:
//   g     <- g + weight_decay * w
//   trust <- eta * ||w|| / ||g||   if ||w|| > 0 and ||g|| > 0, else 1
// and for excluded groups (batch norm, biases) g is used as is with trust 1:
//   v     <- momentum * v + trust * lr * g
//   w     <- w - v
// The learning rate sits inside the momentum buffer (as in TensorFlow's
// momentum optimizer), so a changing schedule affects only new contributions.
// Norms are taken over the whole tensor and stay on the device (no host sync).
//
// Not thread-safe.
//   ASSIGN_OR_RETURN(auto lars, Lars::Create(SplitParamsForLars(*model), {}));
//   loss.backward(); RETURN_IF_ERROR(lars->Step(schedule.LearningRate(step)));
class Lars final : public MomentumBufferOptimizer {
 public:
  // InvalidArgument for momentum outside [0, 1), negative eta or
  // weight_decay, or a bad group (see MomentumBufferOptimizer).
  static absl::StatusOr<std::unique_ptr<Lars>> Create(
      std::vector<ParamGroup> groups, const LarsOptions& options);

  const LarsOptions& options() const { return options_; }

 private:
  explicit Lars(const LarsOptions& options) : options_(options) {}
  torch::Tensor ScaledUpdate(const Slot& slot, const torch::Tensor& grad,
                             double learning_rate) const override;

  LarsOptions options_;
};

struct MomentumSgdOptions {
  double momentum = 0.9;
  double weight_decay = 0.0;  // fine-tuning uses none
  // Nesterov momentum (optimizer.h), as the official code's "momentum"
  // optimizer (its linear evaluation's) uses.
  bool nesterov = false;
};

// The LARS rule with trust fixed at 1: v <- momentum * v + lr * (g + wd * w)
// (weight decay skipped for excluded groups); w <- w - v, or the Nesterov
// step. Not thread-safe.
class MomentumSgd final : public MomentumBufferOptimizer {
 public:
  // InvalidArgument for momentum outside [0, 1), negative weight_decay, or a
  // bad group.
  static absl::StatusOr<std::unique_ptr<MomentumSgd>> Create(
      std::vector<ParamGroup> groups, const MomentumSgdOptions& options);

 private:
  explicit MomentumSgd(const MomentumSgdOptions& options) : options_(options) {}
  torch::Tensor ScaledUpdate(const Slot& slot, const torch::Tensor& grad,
                             double learning_rate) const override;

  MomentumSgdOptions options_;
};

// Splits the trainable parameters of `module` (recursively, named as
// named_parameters() names them) into two groups: [0] tensors of 2 or more
// dimensions (conv and linear weights), adapted; [1] 0- and 1-dimensional ones
// (batch-norm gamma/beta and biases), excluded from adaptation.
std::vector<ParamGroup> SplitParamsForLars(const torch::nn::Module& module);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_OPTIM_LARS_H_
