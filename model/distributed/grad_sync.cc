#include "model/distributed/grad_sync.h"

#include <algorithm>
#include <exception>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace simclr::model {

GradientSynchronizer::GradientSynchronizer(
    std::vector<torch::Tensor> parameters, c10d::ProcessGroup* group,
    GradientSynchronizerOptions options)
    : parameters_(std::move(parameters)), group_(group) {
  if (group_ == nullptr || group_->getSize() == 1) return;
  // Open bucket per (dtype, device), in order of first appearance.
  std::map<std::string, int> open;
  for (int i = 0; i < static_cast<int>(parameters_.size()); ++i) {
    const torch::Tensor& p = parameters_[i];
    const std::string key = absl::StrCat(c10::toString(p.scalar_type()), "@",
                                         p.device().str());
    const int64_t element_limit = std::max<int64_t>(
        1, options.bucket_bytes / static_cast<int64_t>(p.element_size()));
    auto it = open.find(key);
    if (it != open.end() &&
        buckets_[it->second].numel + p.numel() <= element_limit) {
      buckets_[it->second].parameter_indices.push_back(i);
      buckets_[it->second].numel += p.numel();
      continue;
    }
    buckets_.push_back(Bucket{{i}, p.numel(), torch::Tensor()});
    open[key] = static_cast<int>(buckets_.size()) - 1;
  }
}

absl::Status GradientSynchronizer::Synchronize() {
  if (buckets_.empty()) return absl::OkStatus();
  // Check everything before the first collective, so a bad gradient never
  // leaves this rank half-way through the buckets.
  for (int i = 0; i < static_cast<int>(parameters_.size()); ++i) {
    const torch::Tensor& p = parameters_[i];
    const torch::Tensor& grad = p.grad();
    if (grad.defined() && (grad.is_sparse() || grad.sizes() != p.sizes())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "parameter ", i, " of shape ", c10::str(p.sizes()), " has a ",
          grad.is_sparse() ? "sparse" : "mis-shaped",
          " gradient; expected a dense one of the same shape"));
    }
  }
  torch::NoGradGuard no_grad;
  const double world_size = group_->getSize();
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  works.reserve(buckets_.size());
  try {
    for (Bucket& bucket : buckets_) {
      const torch::Tensor& first = parameters_[bucket.parameter_indices[0]];
      if (!bucket.flat.defined()) {
        bucket.flat = torch::empty({bucket.numel}, first.options());
      }
      int64_t offset = 0;
      for (int index : bucket.parameter_indices) {
        const torch::Tensor& p = parameters_[index];
        const torch::Tensor& grad = p.grad();
        torch::Tensor slot = bucket.flat.slice(0, offset, offset + p.numel());
        if (!grad.defined()) {
          slot.zero_();
        } else {
          slot.copy_(grad.reshape({-1}));
        }
        offset += p.numel();
      }
      std::vector<at::Tensor> tensors = {bucket.flat};
      works.push_back(group_->allreduce(tensors));
    }
    for (size_t b = 0; b < buckets_.size(); ++b) {
      works[b]->wait();
      Bucket& bucket = buckets_[b];
      bucket.flat.div_(world_size);
      int64_t offset = 0;
      for (int index : bucket.parameter_indices) {
        torch::Tensor& p = parameters_[index];
        torch::Tensor mean =
            bucket.flat.slice(0, offset, offset + p.numel()).view(p.sizes());
        if (p.grad().defined()) {
          p.mutable_grad().copy_(mean);
        } else {
          p.mutable_grad() = mean.clone();
        }
        offset += p.numel();
      }
    }
  } catch (const std::exception& e) {
    // Issued work must not outlive the buckets it reads; wait it out.
    for (auto& work : works) {
      try {
        work->wait();
      } catch (const std::exception&) {
      }
    }
    const std::string message =
        absl::StrCat("gradient allreduce over ", group_->getSize(),
                     " ranks failed: ", e.what());
    const std::string text = e.what();
    if (absl::StrContains(text, "imed out") ||
        absl::StrContains(text, "imeout")) {
      return absl::DeadlineExceededError(message);
    }
    return absl::UnavailableError(message);
  }
  return absl::OkStatus();
}

}  // namespace simclr::model
