#include "model/data/loader.h"

#include <algorithm>
#include <exception>
#include <numeric>
#include <utility>

#include <ATen/ops/empty.h>
#include <ATen/ops/stack.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "model/data/keyed_random.h"

namespace simclr::model {
namespace {

constexpr size_t kCachedPermutations = 4;

}  // namespace

std::vector<int64_t> EpochPermutation(int64_t n, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (shuffle) {
    KeyedRandom rng({seed, static_cast<uint64_t>(epoch)});
    rng.Shuffle(order);
  }
  return order;
}

absl::StatusOr<EpochSharder> EpochSharder::Create(const ShardOptions& options) {
  if (options.dataset_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("dataset_size = ", options.dataset_size, "; expected > 0"));
  }
  if (options.global_batch <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("global_batch = ", options.global_batch, "; expected > 0"));
  }
  if (options.world_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("world_size = ", options.world_size, "; expected >= 1"));
  }
  if (options.rank < 0 || options.rank >= options.world_size) {
    return absl::InvalidArgumentError(absl::StrCat("rank = ", options.rank, "; expected [0, ",
                                                   options.world_size, ")"));
  }
  if (options.global_batch % options.world_size != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("global_batch = ", options.global_batch,
                     "; expected a multiple of world_size = ", options.world_size));
  }
  int64_t steps = options.dataset_size / options.global_batch;
  if (options.drop_last) {
    if (steps == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "global_batch = ", options.global_batch, " exceeds the dataset's ",
          options.dataset_size, " examples (with drop_last, an epoch would have no step)"));
    }
  } else if (options.dataset_size % options.global_batch != 0) {
    ++steps;
  }
  return EpochSharder(options, steps);
}

std::vector<int64_t> EpochSharder::GlobalSlots(int64_t step,
                                               const std::vector<int64_t>& permutation) const {
  const int64_t in_epoch = step % steps_per_epoch_;
  const int64_t begin = in_epoch * options_.global_batch;
  const int64_t end = std::min(begin + options_.global_batch, options_.dataset_size);
  return std::vector<int64_t>(permutation.begin() + begin, permutation.begin() + end);
}

std::vector<int64_t> EpochSharder::RankSlots(int64_t step,
                                             const std::vector<int64_t>& permutation) const {
  const std::vector<int64_t> global = GlobalSlots(step, permutation);
  const int64_t m = static_cast<int64_t>(global.size());
  const int64_t w = options_.world_size;
  const int64_t r = options_.rank;
  return std::vector<int64_t>(global.begin() + r * m / w, global.begin() + (r + 1) * m / w);
}

std::vector<int64_t> EpochSharder::GlobalIndices(int64_t step) const {
  return GlobalSlots(step, EpochPermutation(options_.dataset_size, options_.seed,
                                            EpochOf(step), options_.shuffle));
}

std::vector<int64_t> EpochSharder::RankIndices(int64_t step) const {
  return RankSlots(step, EpochPermutation(options_.dataset_size, options_.seed,
                                          EpochOf(step), options_.shuffle));
}

absl::StatusOr<std::unique_ptr<BatchLoader>> BatchLoader::Create(const Dataset* dataset,
                                                                 SampleTransform transform,
                                                                 LoaderOptions options) {
  if (dataset == nullptr) return absl::InvalidArgumentError("loader: dataset is null");
  if (!transform) return absl::InvalidArgumentError("loader: transform is empty");
  if (options.num_threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("loader num_threads = ", options.num_threads, "; expected >= 1"));
  }
  if (options.queue_capacity < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("loader queue_capacity = ", options.queue_capacity, "; expected >= 1"));
  }
  if (options.start_step < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("loader start_step = ", options.start_step, "; expected >= 0"));
  }
  if (options.end_step >= 0 && options.end_step < options.start_step) {
    return absl::InvalidArgumentError(absl::StrCat("loader end_step = ", options.end_step,
                                                   "; expected >= start_step = ",
                                                   options.start_step));
  }
  options.shard.dataset_size = dataset->size();
  ASSIGN_OR_RETURN(EpochSharder sharder, EpochSharder::Create(options.shard));
  return std::unique_ptr<BatchLoader>(
      new BatchLoader(dataset, std::move(transform), std::move(options), std::move(sharder)));
}

BatchLoader::BatchLoader(const Dataset* dataset, SampleTransform transform,
                         LoaderOptions options, EpochSharder sharder)
    : dataset_(dataset),
      transform_(std::move(transform)),
      options_(std::move(options)),
      sharder_(std::move(sharder)),
      next_to_claim_(options_.start_step),
      next_to_deliver_(options_.start_step) {
  workers_.reserve(options_.num_threads);
  for (int i = 0; i < options_.num_threads; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

BatchLoader::~BatchLoader() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
}

bool BatchLoader::HasWork() const {
  if (stopping_) return true;  // wake up to exit
  if (options_.end_step >= 0 && next_to_claim_ >= options_.end_step) return false;
  return next_to_claim_ < next_to_deliver_ + options_.queue_capacity;
}

bool BatchLoader::NextIsReady() const { return ready_.count(next_to_deliver_) > 0; }

void BatchLoader::WorkerLoop() {
  while (true) {
    int64_t step;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &BatchLoader::HasWork));
      if (stopping_) return;
      step = next_to_claim_++;
    }
    // Every claimed step gets a result, so Next() never waits on a step that
    // no worker will build.
    absl::StatusOr<Batch> batch;
    try {
      batch = BuildBatch(step);
    } catch (const std::exception& e) {
      batch = absl::InternalError(absl::StrCat("loader step ", step, ": ", e.what()));
    } catch (...) {
      batch = absl::InternalError(absl::StrCat("loader step ", step, ": unknown exception"));
    }
    absl::MutexLock lock(&mu_);
    if (!batch.ok()) stopping_ = true;  // nothing after a failed step is wanted
    ready_.emplace(step, std::move(batch));
  }
}

std::shared_ptr<const std::vector<int64_t>> BatchLoader::Permutation(int64_t epoch) {
  {
    absl::MutexLock lock(&permutation_mu_);
    auto it = permutations_.find(epoch);
    if (it != permutations_.end()) return it->second;
  }
  // Computed outside the lock: two workers may both compute it (same result).
  auto permutation = std::make_shared<const std::vector<int64_t>>(EpochPermutation(
      dataset_->size(), options_.shard.seed, epoch, options_.shard.shuffle));
  absl::MutexLock lock(&permutation_mu_);
  permutations_.emplace(epoch, permutation);
  while (permutations_.size() > kCachedPermutations) permutations_.erase(permutations_.begin());
  return permutation;
}

absl::StatusOr<Batch> BatchLoader::BuildBatch(int64_t step) {
  Batch batch;
  batch.step = step;
  batch.epoch = sharder_.EpochOf(step);
  const std::vector<int64_t> slots = sharder_.RankSlots(step, *Permutation(batch.epoch));
  const int64_t b = static_cast<int64_t>(slots.size());
  batch.labels = at::empty({b}, at::kLong);
  batch.indices = at::empty({b}, at::kLong);
  std::vector<at::Tensor> inputs;
  inputs.reserve(b);
  for (int64_t i = 0; i < b; ++i) {
    const int64_t index = slots[i];
    Example example = dataset_->Get(index);
    absl::StatusOr<at::Tensor> input = transform_(example.image, batch.epoch, index);
    if (!input.ok()) {
      return absl::Status(input.status().code(),
                          absl::StrCat("loader step ", step, ", sample ", index, ": ",
                                       input.status().message()));
    }
    if (!inputs.empty() && input->sizes() != inputs.front().sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "loader step ", step, ", sample ", index, ": transform output shape [",
          absl::StrJoin(input->sizes(), ", "), "] differs from the batch's [",
          absl::StrJoin(inputs.front().sizes(), ", "), "]"));
    }
    inputs.push_back(*std::move(input));
    batch.labels.data_ptr<int64_t>()[i] = example.label;
    batch.indices.data_ptr<int64_t>()[i] = index;
  }
  batch.inputs = inputs.empty() ? at::empty({0}, at::kFloat) : at::stack(inputs);
  if (options_.pin_memory) {
    batch.inputs = batch.inputs.pin_memory();
    batch.labels = batch.labels.pin_memory();
  }
  return batch;
}

absl::StatusOr<Batch> BatchLoader::Next() {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  if (options_.end_step >= 0 && next_to_deliver_ >= options_.end_step) {
    return absl::OutOfRangeError(absl::StrCat("loader reached end_step ", options_.end_step));
  }
  mu_.Await(absl::Condition(this, &BatchLoader::NextIsReady));
  auto it = ready_.find(next_to_deliver_);
  absl::StatusOr<Batch> batch = std::move(it->second);
  ready_.erase(it);
  ++next_to_deliver_;
  if (!batch.ok()) failure_ = batch.status();
  return batch;
}

}  // namespace simclr::model
