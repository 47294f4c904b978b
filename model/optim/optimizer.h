// The optimizer interface the trainers use, and the shared machinery of
// optimizers that keep one momentum buffer per parameter (LARS, momentum SGD).
#ifndef SIMCLR_MODEL_OPTIM_OPTIMIZER_H_
#define SIMCLR_MODEL_OPTIM_OPTIMIZER_H_

#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"

namespace simclr::model {

// Parameters that share optimizer treatment. Names are the keys under which
// per-parameter state is saved; they must be unique across all groups.
struct ParamGroup {
  // Parallel to `params`. May be left empty: names "group<g>/<i>" are made up,
  // which is only stable as long as the grouping and order stay the same.
  std::vector<std::string> names;
  std::vector<torch::Tensor> params;
  // True for batch-norm parameters and biases: they get neither weight decay
  // nor the LARS trust ratio (as in the official SimCLR implementation).
  bool exclude_from_adaptation = false;
};

// Optimizer state saved in checkpoints: tensor name -> tensor.
using OptimizerState = std::map<std::string, torch::Tensor>;

// Interface of every optimizer. Implementations are not thread-safe: one
// training thread calls them, between backward passes.
class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // Applies one update with `learning_rate` (the schedule's value for this
  // step) using each parameter's current .grad(); parameters without a grad are
  // skipped. InvalidArgument for a negative or non-finite rate; Internal when
  // LibTorch fails (e.g. a grad of the wrong shape).
  virtual absl::Status Step(double learning_rate) = 0;

  // Zeroes every defined gradient in place.
  virtual void ZeroGrad() = 0;

  // A copy of the optimizer's state (e.g. "momentum/<param name>").
  virtual OptimizerState StateDict() const = 0;

  // Restores state saved by StateDict() of an optimizer over the same named
  // parameters. InvalidArgument naming the tensor when one is missing, has the
  // wrong shape, or is unknown; on error nothing is changed.
  virtual absl::Status LoadStateDict(const OptimizerState& state) = 0;
};

// Base of optimizers with one momentum buffer per parameter:
//   v <- momentum * v + lr * update(w, g);  w <- w - v
// or, with Nesterov momentum, w <- w - (momentum * v + lr * update(w, g))
// (TensorFlow's use_nesterov with the rate inside the buffer; at a constant
// rate, PyTorch's SGD(nesterov=True)), where subclasses supply update(). Buffers start at zero and live on the
// parameter's device with its dtype. Not thread-safe.
class MomentumBufferOptimizer : public Optimizer {
 public:
  absl::Status Step(double learning_rate) final;
  void ZeroGrad() final;
  OptimizerState StateDict() const final;
  absl::Status LoadStateDict(const OptimizerState& state) final;

  const std::vector<ParamGroup>& param_groups() const { return groups_; }

 protected:
  struct Slot {
    std::string name;
    torch::Tensor param;
    torch::Tensor momentum;
    bool exclude_from_adaptation;
  };

  MomentumBufferOptimizer() = default;

  // Validates groups (defined floating-point tensors, unique names) and
  // creates the buffers. InvalidArgument on a bad group.
  absl::Status Init(std::vector<ParamGroup> groups, double momentum, bool nesterov = false);

  // The scaled step direction of one parameter, lr * update(w, g), computed
  // under NoGradGuard. `grad` is defined.
  virtual torch::Tensor ScaledUpdate(const Slot& slot, const torch::Tensor& grad,
                                     double learning_rate) const = 0;

 private:
  std::vector<ParamGroup> groups_;
  std::vector<Slot> slots_;
  double momentum_ = 0.0;
  bool nesterov_ = false;
};

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_OPTIM_OPTIMIZER_H_
