// Distillation loss of SimCLRv2 (Chen et al. 2020, "Big Self-Supervised Models
// are Strong Semi-Supervised Learners", Eq. 2), optionally mixed with the
// cross-entropy on the ground-truth labels of the labelled images (Eq. 3).
#ifndef SIMCLR_MODEL_LOSS_DISTILL_H_
#define SIMCLR_MODEL_LOSS_DISTILL_H_

#include <cstdint>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "model/data/dataset.h"

namespace simclr::model {

struct DistillOptions {
  double temperature = 1.0;  // tau, applied to both teacher and student
  // w in (1 - w) * distill + w * CE; 0 (the paper's default): teacher only.
  double label_weight = 0.0;
};

// Returns the scalar
//   (1 - w) * tau^2 * mean_i [ -sum_y softmax(t_i / tau)_y * log_softmax(s_i / tau)_y ]
//     + w * mean_{i labelled} [ -log_softmax(s_i)_{label_i} ]
// for student logits s and teacher logits t [batch, classes] and labels
// [batch] (int64 class indices, kUnlabelled (model/data/dataset.h) for images outside the labelled
// subset; only read when w > 0, may be undefined when w == 0). The label term
// is 0 for a batch without labelled images. The teacher is detached: no
// gradient reaches it. Differentiable in the student logits.
//
// The tau^2 factor is SimCLRv2's distillation code's (and Hinton et al.
// 2015's): the soft targets' gradients shrink as 1/tau^2, and the factor keeps
// their size, and their balance against the label term, the same at every
// temperature. The paper's Eq. 2 omits it; at tau = 1 the two agree.
//
// InvalidArgument for shape mismatches, an empty batch, a temperature that is
// not positive and finite, w outside [0, 1], or labels missing or outside
// [kUnlabelled, classes) when w > 0; Internal when LibTorch fails.
// Thread-compatible (a pure function).
absl::StatusOr<torch::Tensor> DistillationLoss(
    const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
    const torch::Tensor& labels, const DistillOptions& options);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_LOSS_DISTILL_H_
