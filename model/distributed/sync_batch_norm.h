// Training-mode batch normalisation whose statistics span a process group.
//
// NOTE [global batch norm]
// SimCLR normalises over the global batch (every replica's examples), not the
// per-replica batch: with per-replica statistics the network can learn to
// tell the two views of an image apart from batch statistics instead of from
// content (Chen et al. 2020, Sec. 2.1 / Appendix B.1).
//
// For a channel c, with x_i the values of that channel over all N examples
// and spatial positions on all ranks (n of them in total):
//
//   forward   mean = S1 / n,  var = S2 / n - mean^2   (biased, normalises)
//             xhat = (x - mean) * invstd,  invstd = 1 / sqrt(var + eps)
//             y    = gamma * xhat + beta
//   running   running_mean <- (1 - m) running_mean + m mean
//             running_var  <- (1 - m) running_var  + m var * n / (n - 1)
//   backward  dx    = gamma * invstd * (dy - G1 / n - xhat * G2 / n)
//             dgamma = sum_local dy * xhat,   dbeta = sum_local dy
//
// where S1 = sum x, S2 = sum x^2, G1 = sum dy, G2 = sum dy * xhat, each summed
// over every rank. Forward therefore does one allreduce of [S1 | S2 | n]
// (2C + 1 values) and backward one allreduce of [G1 | G2] (2C values), as
// PyTorch's SyncBatchNorm does. To avoid the cancellation in S2 / n - mean^2,
// each rank computes its local mean and centred sum of squares in the input
// precision and contributes S1_r = n_r m_r, S2_r = M2_r + n_r m_r^2 in
// float64; the global combination happens in float64 too.
//
// Gradient convention (the one DistributedDataParallel uses): each rank's loss
// is a function of its own outputs, and dx above is the gradient of the SUM of
// the ranks' losses. dgamma/dbeta are this rank's share of that sum, so
// averaging parameter gradients over N ranks (GradientSynchronizer) and using
// a per-rank mean loss reproduces a single replica running the global batch
// with a mean loss. Summing them instead reproduces a summed loss.
//
// Contract: every rank calls SyncBatchNormTrain for the same layers in the
// same order, forward and backward (the backward allreduce happens inside
// autograd). Per-rank batch sizes may differ, even be 0. If a peer is gone,
// the collective fails after the group's timeout and the call throws
// c10::Error (as any LibTorch op would); the caller at the model boundary
// turns it into a Status.
#ifndef SIMCLR_MODEL_DISTRIBUTED_SYNC_BATCH_NORM_H_
#define SIMCLR_MODEL_DISTRIBUTED_SYNC_BATCH_NORM_H_

#include <torch/types.h>

namespace c10d {
class ProcessGroup;
}  // namespace c10d

namespace simclr::model {

// Batch norm of `input` ([N, C] or [N, C, *]) with statistics over all ranks
// of `group` (not null). `weight` ([C]) is required; `bias` may be undefined
// (no beta). Updates `running_mean` and `running_var` ([C], either may be
// undefined) in place with the global mean and the global unbiased variance.
// Differentiable with respect to input, weight and bias. Throws c10::Error on
// bad shapes, on a global count of 1 per channel, or a failed collective.
torch::Tensor SyncBatchNormTrain(const torch::Tensor& input,
                                 const torch::Tensor& weight,
                                 const torch::Tensor& bias,
                                 const torch::Tensor& running_mean,
                                 const torch::Tensor& running_var,
                                 double momentum, double eps,
                                 c10d::ProcessGroup* group);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_DISTRIBUTED_SYNC_BATCH_NORM_H_
