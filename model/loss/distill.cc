#include "model/loss/distill.h"

#include <cmath>
#include <exception>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace simclr::model {
namespace {

std::string ShapeString(const torch::Tensor& t) {
  if (!t.defined()) return "undefined";
  return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]");
}

absl::Status Validate(const torch::Tensor& student, const torch::Tensor& teacher,
                      const torch::Tensor& labels, const DistillOptions& options) {
  if (!std::isfinite(options.temperature) || options.temperature <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "distillation temperature is ", options.temperature,
        "; expected a positive finite number"));
  }
  if (!(options.label_weight >= 0.0 && options.label_weight <= 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "label_weight is ", options.label_weight, "; expected a value in [0, 1]"));
  }
  if (!student.defined() || !teacher.defined() || student.dim() != 2 ||
      student.sizes() != teacher.sizes() || student.size(0) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "distillation expects student and teacher logits of one shape "
        "[batch > 0, classes]; got ", ShapeString(student), " and ",
        ShapeString(teacher)));
  }
  if (options.label_weight > 0.0) {
    if (!labels.defined() || labels.dim() != 1 ||
        labels.size(0) != student.size(0) ||
        labels.scalar_type() != torch::kLong) {
      return absl::InvalidArgumentError(absl::StrCat(
          "label_weight > 0 needs int64 labels of shape [", student.size(0),
          "]; got ", ShapeString(labels)));
    }
    const int64_t lo = labels.min().item<int64_t>();
    const int64_t hi = labels.max().item<int64_t>();
    if (lo < kUnlabelled || hi >= student.size(1)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "labels range over [", lo, ", ", hi, "]; expected [", kUnlabelled, ", ",
          student.size(1) - 1, "] (", kUnlabelled, ": unlabelled)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<torch::Tensor> DistillationLoss(
    const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
    const torch::Tensor& labels, const DistillOptions& options) {
  if (absl::Status s = Validate(student_logits, teacher_logits, labels, options);
      !s.ok()) {
    return s;
  }
  try {
    const double inv_t = 1.0 / options.temperature;
    torch::Tensor teacher_probs =
        torch::softmax(teacher_logits.detach().mul(inv_t), 1)
            .to(student_logits.scalar_type());
    torch::Tensor student_log_probs =
        torch::log_softmax(student_logits.mul(inv_t), 1);
    torch::Tensor distill = -(teacher_probs * student_log_probs).sum(1).mean() *
                            (options.temperature * options.temperature);
    if (options.label_weight == 0.0) return distill;
    // Mean over the labelled images, without a host sync: the masked sum over
    // their count (at least 1, so a batch without labels adds 0).
    const torch::Tensor labelled = labels.ge(0);
    const torch::Tensor per_image = -torch::log_softmax(student_logits, 1)
                                         .gather(1, labels.clamp_min(0).unsqueeze(1))
                                         .squeeze(1);
    torch::Tensor ce = per_image.mul(labelled.to(per_image.scalar_type())).sum() /
                       labelled.sum().clamp_min(1).to(per_image.scalar_type());
    return distill.mul(1.0 - options.label_weight) +
           ce.mul(options.label_weight);
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("distillation loss failed: ", e.what()));
  }
}

}  // namespace simclr::model
