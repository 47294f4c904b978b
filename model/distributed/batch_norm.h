// Batch normalisation that is global across a data-parallel gang.
//
// Every network in model/ uses BatchNorm instead of torch::nn::BatchNorm{1,2}d.
// With no process group (or a group of size 1) it is ordinary batch norm. With
// a group of size N > 1, training-mode statistics are computed over the whole
// global batch (see NOTE [global batch norm] in model/distributed/sync_batch_norm.h):
// every rank must run the same BatchNorm layers in the same order, as with any
// collective.
#ifndef SIMCLR_MODEL_DISTRIBUTED_BATCH_NORM_H_
#define SIMCLR_MODEL_DISTRIBUTED_BATCH_NORM_H_

#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace c10d {
class ProcessGroup;
}  // namespace c10d

namespace simclr::model {

struct BatchNormOptions {
  int64_t num_features = 0;
  double eps = 1e-5;       // the paper's (TensorFlow's) epsilon
  double momentum = 0.1;   // running = (1 - momentum) * running + momentum * batch
  bool center = true;      // false: no beta (the projection head's last layer)
  bool zero_init_gamma = false;  // true: the last BN of each residual block
};

// Accepts [N, C] and [N, C, H, W] inputs. Not thread-safe (like any Module).
// Parameters: `weight` (gamma) and, if center, `bias` (beta). Buffers:
// `running_mean`, `running_var`, `num_batches_tracked`.
class BatchNormImpl : public torch::nn::Module {
 public:
  explicit BatchNormImpl(const BatchNormOptions& options);

  torch::Tensor forward(const torch::Tensor& input);

  // Statistics are reduced over `group` from now on; nullptr: local only.
  void set_process_group(c10d::ProcessGroup* group) { group_ = group; }  // not owned
  c10d::ProcessGroup* process_group() const { return group_; }

  const BatchNormOptions& options() const { return options_; }

  torch::Tensor weight;
  torch::Tensor bias;  // undefined when !options.center
  torch::Tensor running_mean;
  torch::Tensor running_var;
  torch::Tensor num_batches_tracked;

 private:
  BatchNormOptions options_;
  c10d::ProcessGroup* group_ = nullptr;  // not owned
};

TORCH_MODULE(BatchNorm);

// Sets the process group of every BatchNorm inside `root` (nullptr: none).
void SetBatchNormProcessGroup(torch::nn::Module& root, c10d::ProcessGroup* group);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_DISTRIBUTED_BATCH_NORM_H_
