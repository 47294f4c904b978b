// Optional MoCo-style memory of negatives for NT-Xent (He et al. 2019,
// "Momentum Contrast"; SimCLRv2 Sec. 2 uses 64K negatives and an EMA encoder
// with momentum 0.999, reporting a ~1% gain; the official SimCLR release does
// not include it). Off by default: trainers use it only when asked.
//
// The pieces: a FIFO ring buffer of normalised key embeddings (MocoQueue), the
// EMA update of a key network from the online network (EmaUpdate), and NT-Xent
// with the queue's entries as extra negatives (MocoNtXentLoss).
#ifndef SIMCLR_MODEL_LOSS_MOCO_QUEUE_H_
#define SIMCLR_MODEL_LOSS_MOCO_QUEUE_H_

#include <cstdint>
#include <memory>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/loss/nt_xent.h"

namespace c10d {
class ProcessGroup;
}  // namespace c10d

namespace simclr::model {

struct MocoQueueOptions {
  int64_t capacity = 65536;  // the paper's 64K negatives
  int64_t dim = 128;         // the projection head's output size
};

// A fixed-capacity FIFO of L2-normalised embeddings, stored without gradient
// in one [capacity, dim] tensor (a ring buffer: enqueueing into a full queue
// overwrites the oldest entries). Not thread-safe; one training thread owns
// it. In a gang every rank keeps an identical queue by enqueueing the keys of
// all ranks (EnqueueFromAllRanks).
//
//   ASSIGN_OR_RETURN(auto queue, MocoQueue::Create({65536, 128}, options));
//   ASSIGN_OR_RETURN(auto out, MocoNtXentLoss(z1, z2, *queue, {0.1}, group));
//   RETURN_IF_ERROR(queue->EnqueueFromAllRanks(key_z, group));
class MocoQueue {
 public:
  // `tensor_options` sets the dtype and device of the storage. InvalidArgument
  // for capacity or dim <= 0.
  static absl::StatusOr<std::unique_ptr<MocoQueue>> Create(
      const MocoQueueOptions& options,
      const torch::TensorOptions& tensor_options = torch::kFloat32);

  // Appends the L2-normalised rows of `keys` [k, dim] (detached). Past
  // capacity, the oldest entries are dropped first; with k > capacity only the
  // last `capacity` rows remain. InvalidArgument on a wrong shape.
  absl::Status Enqueue(const torch::Tensor& keys);

  // Enqueues every rank's `local_keys` in rank order, so all ranks' queues
  // stay identical. Every rank of `group` calls it at the same point with the
  // same shape (a collective); `group` null or of size 1: Enqueue(local_keys).
  // Unavailable if the all-gather fails (e.g. a peer is gone).
  absl::Status EnqueueFromAllRanks(const torch::Tensor& local_keys,
                                   c10d::ProcessGroup* group);

  // Drops the `count` oldest entries. OutOfRange if count > size() or < 0.
  absl::Status Dequeue(int64_t count);

  // The entries, oldest first ([size, dim], a copy).
  torch::Tensor Entries() const;

  // The entries in storage order ([size, dim], a view, no copy): for use as
  // negatives, where order does not matter. Valid until the next mutation.
  torch::Tensor Negatives() const;

  // Replaces the contents with `entries` (as returned by Entries(), e.g. from a
  // checkpoint), the oldest stored at row `head` (head() when they were
  // saved): the storage, and so the order Negatives() gives, is then the same
  // as the saved queue's, and a resumed run computes bit for bit what the
  // uninterrupted one did. InvalidArgument on a wrong shape, more rows than
  // capacity, or a head outside [0, capacity).
  absl::Status Restore(const torch::Tensor& entries, int64_t head = 0);

  // The storage row of the oldest entry.
  int64_t head() const { return head_; }

  int64_t size() const { return size_; }
  int64_t capacity() const { return options_.capacity; }

 private:
  MocoQueue(const MocoQueueOptions& options, torch::Tensor buffer)
      : options_(options), buffer_(std::move(buffer)) {}

  // Enqueue, with or without L2-normalising the rows first.
  absl::Status Append(const torch::Tensor& keys, bool normalize);

  MocoQueueOptions options_;
  torch::Tensor buffer_;  // [capacity, dim]
  int64_t head_ = 0;      // storage row of the oldest entry
  int64_t size_ = 0;
};

// For every parameter of `key` and the same-named parameter of `online`:
//   key <- momentum * key + (1 - momentum) * online
// (momentum 0 copies; the paper uses 0.999). Buffers (batch-norm running
// statistics) are left alone: the key network keeps its own. No gradient is
// recorded. InvalidArgument if momentum is outside [0, 1] or the two modules'
// parameter names or shapes differ (nothing is changed then).
absl::Status EmaUpdate(const torch::nn::Module& online, torch::nn::Module& key,
                       double momentum);

// NT-Xent (see nt_xent.h) with the queue's current entries as extra negatives
// for every anchor. Same contract and errors as NtXentLossWithExtraNegatives.
absl::StatusOr<NtXentOutput> MocoNtXentLoss(const torch::Tensor& z1,
                                            const torch::Tensor& z2,
                                            const MocoQueue& queue,
                                            const NtXentOptions& options,
                                            c10d::ProcessGroup* group = nullptr);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_LOSS_MOCO_QUEUE_H_
