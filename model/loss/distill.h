// Distillation loss of SimCLRv2 (Chen et al. 2020, "Big Self-Supervised Models
// are Strong Semi-Supervised Learners", Eq. 2), optionally mixed with the
// cross-entropy on ground-truth labels.
#ifndef SIMCLR_MODEL_LOSS_DISTILL_H_
#define SIMCLR_MODEL_LOSS_DISTILL_H_

#include <torch/types.h>

#include "absl/status/statusor.h"

namespace simclr::model {

struct DistillOptions {
  double temperature = 1.0;  // tau, applied to both teacher and student
  // w in (1 - w) * distill + w * CE; 0 (the paper's default): teacher only.
  double label_weight = 0.0;
};

// Returns the scalar
//   (1 - w) * mean_i [ -sum_y softmax(t_i / tau)_y * log_softmax(s_i / tau)_y ]
//     + w * mean_i [ -log_softmax(s_i)_{label_i} ]
// for student logits s and teacher logits t [batch, classes] and labels
// [batch] (int64 class indices; only read when w > 0, may be undefined when
// w == 0). The teacher is detached: no gradient reaches it. No tau^2 factor
// (as in SimCLRv2's code). Differentiable in the student logits.
//
// InvalidArgument for shape mismatches, an empty batch, a temperature that is
// not positive and finite, w outside [0, 1], or labels missing / out of range
// when w > 0; Internal when LibTorch fails. Thread-compatible (a pure
// function).
absl::StatusOr<torch::Tensor> DistillationLoss(
    const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
    const torch::Tensor& labels, const DistillOptions& options);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_LOSS_DISTILL_H_
