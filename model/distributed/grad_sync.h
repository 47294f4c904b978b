// Averaging gradients over a data-parallel gang, in flat buckets.
//
// Contract: every rank builds a GradientSynchronizer over the same parameters
// in the same order (same shapes and dtypes) and calls Synchronize() after
// each backward pass, before the optimizer step, at the same points. World
// size 1 (or no group): Synchronize() does nothing. If a peer is gone,
// Synchronize() returns an error within the group's timeout; the gradients are
// then unspecified and the gang must start a new attempt.
//
// Parameters are grouped by (dtype, device), keeping their order, and packed
// into buckets of at most `bucket_bytes` (a larger parameter gets a bucket of
// its own). All buckets' allreduces are issued before any is waited on, so
// Gloo/NCCL can work on several at once.
//
// Not thread-safe. Holds references to the parameters (their gradients are
// read and written in place), not ownership of any module.
//
//   GradientSynchronizer sync(model->parameters(), group);
//   loss.backward();
//   RETURN_IF_ERROR(sync.Synchronize());
//   optimizer.step();
#ifndef SIMCLR_MODEL_DISTRIBUTED_GRAD_SYNC_H_
#define SIMCLR_MODEL_DISTRIBUTED_GRAD_SYNC_H_

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"

namespace c10d {
class ProcessGroup;
}  // namespace c10d

namespace simclr::model {

struct GradientSynchronizerOptions {
  int64_t bucket_bytes = 25 * 1024 * 1024;
};

class GradientSynchronizer {
 public:
  // `group` is not owned and must outlive this object; nullptr means world
  // size 1.
  GradientSynchronizer(std::vector<torch::Tensor> parameters,
                       c10d::ProcessGroup* group,
                       GradientSynchronizerOptions options = {});

  GradientSynchronizer(const GradientSynchronizer&) = delete;
  GradientSynchronizer& operator=(const GradientSynchronizer&) = delete;

  // Replaces every parameter's gradient with its mean over the ranks. A
  // parameter whose gradient is undefined contributes zeros and receives the
  // mean (so its gradient becomes defined). Errors: InvalidArgument for a
  // sparse gradient or one whose shape differs from its parameter;
  // Unavailable/DeadlineExceeded when a collective fails.
  absl::Status Synchronize();

  // Number of buckets (one allreduce each); 0 for world size 1.
  int num_buckets() const { return static_cast<int>(buckets_.size()); }

 private:
  struct Bucket {
    std::vector<int> parameter_indices;  // into parameters_
    int64_t numel = 0;
    torch::Tensor flat;  // allocated on first use
  };

  std::vector<torch::Tensor> parameters_;
  c10d::ProcessGroup* group_;  // not owned
  std::vector<Bucket> buckets_;
};

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_DISTRIBUTED_GRAD_SYNC_H_
