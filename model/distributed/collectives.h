// Thin blocking wrappers over c10d collectives, for use inside forward and
// backward passes (where errors must travel as exceptions, like any LibTorch
// op).
//
// Contract (as c10d's): every rank of `group` makes the same calls in the same
// order with tensors of the same shape and dtype. A call blocks until the
// collective has finished on this rank. If a peer is gone, the collective fails
// within the group's timeout and the call throws c10::Error naming the
// operation; nothing hangs forever.
#ifndef SIMCLR_MODEL_DISTRIBUTED_COLLECTIVES_H_
#define SIMCLR_MODEL_DISTRIBUTED_COLLECTIVES_H_

#include <vector>

#include <torch/types.h>

namespace c10d {
class ProcessGroup;
}  // namespace c10d

namespace simclr::model {

// Sums `tensor` (contiguous) over all ranks, in place.
void AllReduceSumInPlace(torch::Tensor& tensor, c10d::ProcessGroup* group);

// Returns the sum of `tensor` over all ranks (a new contiguous tensor; the
// input is untouched).
torch::Tensor AllReduceSum(const torch::Tensor& tensor,
                           c10d::ProcessGroup* group);

// Returns every rank's `tensor`, indexed by rank. All ranks pass tensors of
// the same shape and dtype.
std::vector<torch::Tensor> AllGather(const torch::Tensor& tensor,
                                     c10d::ProcessGroup* group);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_DISTRIBUTED_COLLECTIVES_H_
