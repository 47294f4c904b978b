// NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen et
// al. 2020, Eq. 1), with negatives gathered from every replica.
#ifndef SIMCLR_MODEL_LOSS_NT_XENT_H_
#define SIMCLR_MODEL_LOSS_NT_XENT_H_

#include <torch/types.h>

#include "absl/status/statusor.h"

namespace c10d {
class ProcessGroup;
}  // namespace c10d

namespace simclr::model {

struct NtXentOptions {
  double temperature = 0.1;  // the paper's pretraining value
};

struct NtXentOutput {
  // Scalar, differentiable: the mean over this rank's 2n anchors.
  torch::Tensor loss;
  // Scalar without grad: the fraction of this rank's 2n anchors whose
  // positive has the highest similarity among all candidates.
  torch::Tensor accuracy;
};

// NOTE [NT-Xent scaling]
// z1, z2 [n, d] are this rank's projections of the two views of n images
// (row i of z1 and row i of z2 come from the same image). Both are L2-
// normalised here. The candidates are the normalised views of all N*n images
// of the gang (gathered with AllGatherWithGrad, 2Nn rows); for each local
// anchor a, with s(a, c) = <a, c> / temperature,
//   l(a) = -s(a, a+) + log sum_{c != a} exp s(a, c)
// where a+ is the other view of a's image, and c ranges over all 2Nn
// candidates except a itself (the self-similarity is masked). The loss is the
// mean of l over the 2n local anchors.
//
// The official SimCLR code reports the sum of the two directions' means
// (loss_a + loss_b), i.e. twice this value; the gradient scale therefore
// differs by 2, which LARS's trust ratio absorbs for adapted parameters.
//
// Scaling contract: the gradient that reaches this rank's z1/z2 is the
// gradient of the SUM of every rank's loss (the all-gather's backward sums over
// ranks), i.e. N times the gradient a single replica holding the global batch
// B = N*n would get for the same rows. Averaging parameter gradients over the
// N ranks (as GradientSynchronizer does) therefore reproduces exactly the
// world-size-1 run with batch B, and the mean over ranks of `loss` equals the
// world-size-1 loss.
//
// Contract: every rank of `group` calls this at the same point with the same
// n and d, and runs backward through the loss (the backward allreduces).
// `group` null or of size 1: purely local. InvalidArgument for mismatched or
// non-2-D inputs, n == 0, or a temperature that is not positive and finite;
// Internal (with LibTorch's message) if a collective or op fails in forward.
// A peer lost during backward surfaces as a c10::Error thrown by backward().
absl::StatusOr<NtXentOutput> NtXentLoss(const torch::Tensor& z1,
                                        const torch::Tensor& z2,
                                        const NtXentOptions& options,
                                        c10d::ProcessGroup* group = nullptr);

// As NtXentLoss, with `extra_negatives` [k, d] (k may be 0) added to every
// anchor's candidates. They are L2-normalised here and receive no gradient;
// every rank passes its own (normally identical, e.g. a MocoQueue's contents).
absl::StatusOr<NtXentOutput> NtXentLossWithExtraNegatives(
    const torch::Tensor& z1, const torch::Tensor& z2,
    const torch::Tensor& extra_negatives, const NtXentOptions& options,
    c10d::ProcessGroup* group = nullptr);

// Rows of `z` divided by their L2 norm (clamped below at 1e-12).
torch::Tensor L2Normalize(const torch::Tensor& z);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_LOSS_NT_XENT_H_
