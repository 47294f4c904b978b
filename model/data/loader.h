// Epoch sharding across data-parallel ranks, and a background loader that
// turns a dataset into ordered, augmented batches.
//
// NOTE [sharding contract]
// Each epoch has one global order of the dataset: a permutation keyed by
// (seed, epoch) (the identity when shuffle is off). Global step s of epoch e
// owns slots [s*B, s*B + m) of that order (m = B except for a short last
// batch when drop_last is off), and rank r of W takes the contiguous slots
// [floor(r*m/W), floor((r+1)*m/W)) of them. Hence, at every step, the
// concatenation of the ranks' batches in rank order is exactly the batch a
// world-size-1 run sees, and augmentation keyed by (seed, epoch, index) -- not
// by rank or thread -- makes the pixels match too. Steps are numbered
// globally across epochs: epoch = step / steps_per_epoch.
#ifndef SIMCLR_MODEL_DATA_LOADER_H_
#define SIMCLR_MODEL_DATA_LOADER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <ATen/core/Tensor.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "model/data/dataset.h"

namespace simclr::model {

struct ShardOptions {
  int64_t dataset_size = 0;
  int64_t global_batch = 0;  // over all ranks; a multiple of world_size
  int64_t world_size = 1;
  int64_t rank = 0;
  uint64_t seed = 0;
  bool shuffle = true;    // false: the dataset's own order every epoch
  bool drop_last = true;  // false: a short last batch (ranks may then differ in size)
};

// The dataset order of one epoch: a Fisher-Yates permutation of 0..n-1 keyed
// by (seed, epoch), or 0..n-1 when shuffle is false.
std::vector<int64_t> EpochPermutation(int64_t n, uint64_t seed, int64_t epoch, bool shuffle);

// Which dataset indices each rank reads at each step (NOTE [sharding
// contract]). Immutable, hence thread-safe.
class EpochSharder {
 public:
  // InvalidArgument naming the field when dataset_size or global_batch is
  // not positive, world_size < 1, rank outside [0, world_size), global_batch
  // not a multiple of world_size, or (drop_last) the dataset is smaller than
  // one global batch.
  static absl::StatusOr<EpochSharder> Create(const ShardOptions& options);

  const ShardOptions& options() const { return options_; }
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  int64_t local_batch() const { return options_.global_batch / options_.world_size; }
  int64_t EpochOf(int64_t step) const { return step / steps_per_epoch_; }

  // Dataset indices of global step `step` (>= 0) for all ranks, given the
  // epoch's permutation (EpochPermutation(size, seed, EpochOf(step), shuffle)).
  std::vector<int64_t> GlobalSlots(int64_t step, const std::vector<int64_t>& permutation) const;
  // This rank's share of GlobalSlots.
  std::vector<int64_t> RankSlots(int64_t step, const std::vector<int64_t>& permutation) const;

  // The same, computing the permutation (O(dataset_size) per call).
  std::vector<int64_t> GlobalIndices(int64_t step) const;
  std::vector<int64_t> RankIndices(int64_t step) const;

 private:
  explicit EpochSharder(const ShardOptions& options, int64_t steps_per_epoch)
      : options_(options), steps_per_epoch_(steps_per_epoch) {}

  ShardOptions options_;
  int64_t steps_per_epoch_;
};

// Per-sample transform run by the loader threads, concurrently: must be
// thread-safe. Gets the dataset's uint8 image and the sample's key; returns a
// float tensor, the same shape for every sample (e.g. [2, C, H, W] for two
// SimCLR views; see MakeAugmentTransform in model/augment/simclr_augment.h).
using SampleTransform = std::function<absl::StatusOr<at::Tensor>(
    const at::Tensor& image, int64_t epoch, int64_t index)>;

// One rank's batch of one step.
struct Batch {
  int64_t step = 0;
  int64_t epoch = 0;
  at::Tensor inputs;   // [b, ...] the stacked transform outputs
  at::Tensor labels;   // int64 [b]
  at::Tensor indices;  // int64 [b] dataset indices, in slot order
};

struct LoaderOptions {
  ShardOptions shard;       // dataset_size is taken from the dataset
  int64_t start_step = 0;   // resume: the first step Next() returns
  int64_t end_step = -1;    // exclusive; < 0: never ends
  int num_threads = 1;      // >= 1
  int queue_capacity = 4;   // batches built ahead of the consumer, >= 1
  // Put each batch's inputs and labels in page-locked (pinned) host memory,
  // so that a copy to a CUDA device with non_blocking=true runs
  // asynchronously, overlapped with the step. Needs a LibTorch with CUDA.
  bool pin_memory = false;
};

// Builds this rank's batches on background threads and hands them out in
// step order. A batch depends only on (dataset, transform, options, step), so
// the output is the same for any number of threads, and a loader started at
// step k yields exactly the tail of one started at 0.
//
// Thread-safety: Next() is for one consumer thread. The destructor stops and
// joins the workers (a transform call in progress is finished first). Errors
// of the transform, and exceptions thrown by it or by LibTorch, never leave a
// worker: they become the Status that Next() returns for that step.
//
//   ASSIGN_OR_RETURN(auto loader, BatchLoader::Create(&dataset, transform, options));
//   while (true) { ASSIGN_OR_RETURN(Batch batch, loader->Next()); ... }
class BatchLoader {
 public:
  // `dataset` is not owned and must outlive the loader. InvalidArgument for
  // bad options (naming the field) or a null dataset / transform.
  static absl::StatusOr<std::unique_ptr<BatchLoader>> Create(const Dataset* dataset,
                                                             SampleTransform transform,
                                                             LoaderOptions options);
  ~BatchLoader();

  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // The next step's batch, blocking until it is built. OutOfRange once
  // end_step is reached; the first error of a step (naming the step and the
  // sample index) is returned for that step and every later call.
  absl::StatusOr<Batch> Next();

  const EpochSharder& sharder() const { return sharder_; }

 private:
  BatchLoader(const Dataset* dataset, SampleTransform transform, LoaderOptions options,
              EpochSharder sharder);

  void WorkerLoop();
  absl::StatusOr<Batch> BuildBatch(int64_t step);
  std::shared_ptr<const std::vector<int64_t>> Permutation(int64_t epoch);
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool NextIsReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Dataset* const dataset_;  // not owned
  const SampleTransform transform_;
  const LoaderOptions options_;
  const EpochSharder sharder_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t next_to_claim_ ABSL_GUARDED_BY(mu_);
  int64_t next_to_deliver_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, absl::StatusOr<Batch>> ready_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);

  absl::Mutex permutation_mu_;
  // Permutations of the latest few epochs (a cache: evicted ones are recomputed).
  std::map<int64_t, std::shared_ptr<const std::vector<int64_t>>> permutations_
      ABSL_GUARDED_BY(permutation_mu_);

  std::vector<std::thread> workers_;
};

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_DATA_LOADER_H_
