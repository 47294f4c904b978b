// All-gather with a gradient: how NT-Xent sees every replica's embeddings as
// negatives while each replica back-propagates into its own examples only.
//
//   torch::Tensor all_z = AllGatherWithGrad(z, group);  // [N * b, d]
//   loss = NtXent(z, all_z, ...);  // gradients reach z through both paths
//
// Contract: every rank of `group` calls AllGatherWithGrad at the same point
// with a tensor of the same shape and dtype (the per-rank batch must be equal),
// and, if the result is used in a loss, every rank runs backward through it,
// because backward allreduces. If a peer is gone the collective fails within
// the group's timeout and the call (forward or backward) throws c10::Error.
#ifndef SIMCLR_MODEL_DISTRIBUTED_ALL_GATHER_H_
#define SIMCLR_MODEL_DISTRIBUTED_ALL_GATHER_H_

#include <torch/types.h>

namespace c10d {
class ProcessGroup;
}  // namespace c10d

namespace simclr::model {

// Returns the concatenation along dim 0 of every rank's `local`, in rank
// order ([world_size * b, ...] for `local` of shape [b, ...]). Differentiable:
// the gradient reaching `local` is this rank's slice of the sum over ranks of
// the gradients of the result, i.e. the gradient of the sum of every rank's
// loss (see NOTE [global batch norm] for the convention). With `group` null or
// of size 1 returns `local` unchanged.
torch::Tensor AllGatherWithGrad(const torch::Tensor& local,
                                c10d::ProcessGroup* group);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_DISTRIBUTED_ALL_GATHER_H_
