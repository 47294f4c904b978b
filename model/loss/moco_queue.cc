#include "model/loss/moco_queue.h"

#include <algorithm>
#include <exception>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/distributed/collectives.h"

namespace simclr::model {
namespace {

std::string ShapeString(const torch::Tensor& t) {
  if (!t.defined()) return "undefined";
  return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]");
}

}  // namespace

absl::StatusOr<std::unique_ptr<MocoQueue>> MocoQueue::Create(
    const MocoQueueOptions& options, const torch::TensorOptions& tensor_options) {
  if (options.capacity <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "moco queue capacity is ", options.capacity, "; expected > 0"));
  }
  if (options.dim <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("moco queue dim is ", options.dim, "; expected > 0"));
  }
  torch::Tensor buffer;
  try {
    buffer = torch::zeros({options.capacity, options.dim},
                          tensor_options.requires_grad(false));
  } catch (const std::exception& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate the moco queue: ", e.what()));
  }
  return std::unique_ptr<MocoQueue>(new MocoQueue(options, std::move(buffer)));
}

absl::Status MocoQueue::Enqueue(const torch::Tensor& keys) { return Append(keys, true); }

absl::Status MocoQueue::Append(const torch::Tensor& keys, bool normalize) {
  if (!keys.defined() || keys.dim() != 2 || keys.size(1) != options_.dim) {
    return absl::InvalidArgumentError(absl::StrCat(
        "moco queue keys have shape ", ShapeString(keys), "; expected [k, ",
        options_.dim, "]"));
  }
  const int64_t capacity = options_.capacity;
  torch::NoGradGuard no_grad;
  torch::Tensor rows = keys.detach();
  if (rows.size(0) > capacity) rows = rows.narrow(0, rows.size(0) - capacity, capacity);
  const int64_t k = rows.size(0);
  if (k == 0) return absl::OkStatus();
  try {
    rows = rows.to(buffer_.options());
    if (normalize) rows = L2Normalize(rows);
    // Storage rows tail, tail+1, ... modulo capacity, where tail follows the
    // newest entry.
    torch::Tensor index =
        torch::remainder(torch::arange(k, buffer_.options().dtype(torch::kLong)) +
                             (head_ + size_),
                         capacity);
    buffer_.index_copy_(0, index, rows);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("moco queue enqueue failed: ", e.what()));
  }
  const int64_t overflow = std::max<int64_t>(size_ + k - capacity, 0);
  head_ = (head_ + overflow) % capacity;
  size_ = std::min(size_ + k, capacity);
  return absl::OkStatus();
}

absl::Status MocoQueue::EnqueueFromAllRanks(const torch::Tensor& local_keys,
                                            c10d::ProcessGroup* group) {
  if (group == nullptr) return Enqueue(local_keys);
  torch::Tensor all;
  try {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> parts =
        AllGather(local_keys.detach().contiguous(), group);
    all = torch::cat(parts, 0);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("moco queue all-gather of keys failed: ", e.what()));
  }
  return Enqueue(all);
}

absl::Status MocoQueue::Dequeue(int64_t count) {
  if (count < 0 || count > size_) {
    return absl::OutOfRangeError(absl::StrCat(
        "cannot dequeue ", count, " entries from a moco queue holding ", size_));
  }
  head_ = (head_ + count) % options_.capacity;
  size_ -= count;
  return absl::OkStatus();
}

torch::Tensor MocoQueue::Entries() const {
  torch::NoGradGuard no_grad;
  torch::Tensor index = torch::remainder(
      torch::arange(size_, buffer_.options().dtype(torch::kLong)) + head_,
      options_.capacity);
  return buffer_.index_select(0, index);
}

torch::Tensor MocoQueue::Negatives() const {
  if (size_ == options_.capacity) return buffer_;
  if (head_ + size_ <= options_.capacity) return buffer_.narrow(0, head_, size_);
  return Entries();  // a wrapped, partly filled queue (after Dequeue)
}

absl::Status MocoQueue::Restore(const torch::Tensor& entries, int64_t head) {
  if (!entries.defined() || entries.dim() != 2 ||
      entries.size(1) != options_.dim || entries.size(0) > options_.capacity) {
    return absl::InvalidArgumentError(absl::StrCat(
        "moco queue entries have shape ", ShapeString(entries),
        "; expected [<= ", options_.capacity, ", ", options_.dim, "]"));
  }
  if (head < 0 || head >= options_.capacity) {
    return absl::InvalidArgumentError(absl::StrCat(
        "moco queue head is ", head, "; expected a row in [0, ", options_.capacity, ")"));
  }
  head_ = head;
  size_ = 0;
  // Verbatim: normalising normalised rows again would move some by a
  // rounding step, and a resumed run would part from the saved one.
  return Append(entries, /*normalize=*/false);
}

absl::Status EmaUpdate(const torch::nn::Module& online, torch::nn::Module& key,
                       double momentum) {
  if (!(momentum >= 0.0 && momentum <= 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EMA momentum is ", momentum, "; expected a value in [0, 1]"));
  }
  auto online_params = online.named_parameters(/*recurse=*/true);
  auto key_params = key.named_parameters(/*recurse=*/true);
  if (online_params.size() != key_params.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EMA update: online network has ", online_params.size(),
        " parameters, key network ", key_params.size()));
  }
  for (const auto& item : key_params) {
    const torch::Tensor* source = online_params.find(item.key());
    if (source == nullptr || source->sizes() != item.value().sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "EMA update: key parameter \"", item.key(), "\" ",
          ShapeString(item.value()), " has no counterpart of that shape in the "
          "online network (", source == nullptr ? "missing" : ShapeString(*source),
          ")"));
    }
  }
  try {
    torch::NoGradGuard no_grad;
    for (auto& item : key_params) {
      item.value().mul_(momentum).add_(online_params[item.key()], 1.0 - momentum);
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("EMA update failed: ", e.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<NtXentOutput> MocoNtXentLoss(const torch::Tensor& z1,
                                            const torch::Tensor& z2,
                                            const MocoQueue& queue,
                                            const NtXentOptions& options,
                                            c10d::ProcessGroup* group) {
  return NtXentLossWithExtraNegatives(z1, z2, queue.Negatives(), options, group);
}

}  // namespace simclr::model
