#include "model/loss/nt_xent.h"

#include <cmath>
#include <exception>
#include <limits>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/distributed/all_gather.h"

namespace simclr::model {
namespace {

std::string ShapeString(const torch::Tensor& t) {
  return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]");
}

absl::Status ValidateInputs(const torch::Tensor& z1, const torch::Tensor& z2,
                            const torch::Tensor& extra_negatives,
                            const NtXentOptions& options) {
  if (!std::isfinite(options.temperature) || options.temperature <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "temperature is ", options.temperature,
        "; expected a positive finite number"));
  }
  if (!z1.defined() || !z2.defined()) {
    return absl::InvalidArgumentError("NT-Xent inputs z1 and z2 must be defined");
  }
  if (z1.dim() != 2 || z1.sizes() != z2.sizes() || z1.size(0) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NT-Xent expects z1 and z2 of the same shape [n > 0, d]; got ",
        ShapeString(z1), " and ", ShapeString(z2)));
  }
  if (!z1.is_floating_point() || z1.scalar_type() != z2.scalar_type()) {
    return absl::InvalidArgumentError(
        "NT-Xent expects z1 and z2 of one floating-point dtype");
  }
  if (extra_negatives.defined() &&
      (extra_negatives.dim() != 2 || extra_negatives.size(1) != z1.size(1))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NT-Xent extra negatives have shape ", ShapeString(extra_negatives),
        "; expected [k, ", z1.size(1), "]"));
  }
  return absl::OkStatus();
}

NtXentOutput Compute(const torch::Tensor& z1, const torch::Tensor& z2,
                     const torch::Tensor& extra_negatives,
                     const NtXentOptions& options, c10d::ProcessGroup* group) {
  const int64_t n = z1.size(0);
  const int64_t rank = group == nullptr ? 0 : group->getRank();
  // Local anchors: [view 1 rows; view 2 rows]. Gathering them in that layout
  // puts rank r's block at rows [2nr, 2n(r+1)).
  torch::Tensor anchors = L2Normalize(torch::cat({z1, z2}, 0));  // [2n, d]
  torch::Tensor candidates = AllGatherWithGrad(anchors, group);  // [2Nn, d]
  const double inv_t = 1.0 / options.temperature;
  torch::Tensor logits = anchors.matmul(candidates.t()).mul(inv_t);
  if (extra_negatives.defined() && extra_negatives.size(0) > 0) {
    torch::Tensor negatives =
        L2Normalize(extra_negatives.detach().to(anchors.options()));
    logits = torch::cat({logits, anchors.matmul(negatives.t()).mul(inv_t)}, 1);
  }
  const auto index_options = torch::TensorOptions()
                                 .dtype(torch::kLong)
                                 .device(anchors.device());
  torch::Tensor local = torch::arange(2 * n, index_options);
  torch::Tensor self_index = local + 2 * n * rank;
  // Anchor i < n (view 1) pairs with i + n (view 2), and vice versa.
  torch::Tensor positive_index =
      torch::remainder(local + n, 2 * n) + 2 * n * rank;
  torch::Tensor self_mask =
      torch::zeros(logits.sizes(), index_options.dtype(torch::kBool))
          .scatter_(1, self_index.unsqueeze(1), true);
  torch::Tensor masked = logits.masked_fill(
      self_mask, -std::numeric_limits<double>::infinity());
  torch::Tensor positive = masked.gather(1, positive_index.unsqueeze(1)).squeeze(1);
  torch::Tensor per_anchor = torch::logsumexp(masked, 1) - positive;

  NtXentOutput output;
  output.loss = per_anchor.mean();
  {
    torch::NoGradGuard no_grad;
    output.accuracy = masked.argmax(1).eq(positive_index).to(anchors.scalar_type()).mean();
  }
  return output;
}

absl::StatusOr<NtXentOutput> Run(const torch::Tensor& z1, const torch::Tensor& z2,
                                 const torch::Tensor& extra_negatives,
                                 const NtXentOptions& options,
                                 c10d::ProcessGroup* group) {
  if (absl::Status s = ValidateInputs(z1, z2, extra_negatives, options); !s.ok()) {
    return s;
  }
  try {
    return Compute(z1, z2, extra_negatives, options, group);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(
        "NT-Xent forward failed (z of shape ", ShapeString(z1), "): ", e.what()));
  }
}

}  // namespace

torch::Tensor L2Normalize(const torch::Tensor& z) {
  return z / z.norm(2, {1}, /*keepdim=*/true).clamp_min(1e-12);
}

absl::StatusOr<NtXentOutput> NtXentLoss(const torch::Tensor& z1,
                                        const torch::Tensor& z2,
                                        const NtXentOptions& options,
                                        c10d::ProcessGroup* group) {
  return Run(z1, z2, torch::Tensor(), options, group);
}

absl::StatusOr<NtXentOutput> NtXentLossWithExtraNegatives(
    const torch::Tensor& z1, const torch::Tensor& z2,
    const torch::Tensor& extra_negatives, const NtXentOptions& options,
    c10d::ProcessGroup* group) {
  if (!extra_negatives.defined()) {
    return absl::InvalidArgumentError("NT-Xent extra negatives must be defined");
  }
  return Run(z1, z2, extra_negatives, options, group);
}

}  // namespace simclr::model
