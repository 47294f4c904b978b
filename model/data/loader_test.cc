#include "model/data/loader.h"

#include <atomic>
#include <set>
#include <utility>
#include <vector>

#include <ATen/TensorOperators.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/full.h>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "model/data/keyed_random.h"

namespace simclr::model {
namespace {

// N images of 1x2x2 whose pixels are index % 256; label = index % 10.
std::unique_ptr<InMemoryDataset> CountingDataset(int64_t n) {
  at::Tensor images = (at::arange(n, at::kLong) % 256).to(at::kByte)
                          .reshape({n, 1, 1, 1})
                          .expand({n, 1, 2, 2})
                          .contiguous();
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) labels[i] = i % 10;
  return std::make_unique<InMemoryDataset>(images, std::move(labels), 10);
}

// A key-dependent transform, like augmentation: pixel + noise(epoch, index).
absl::StatusOr<at::Tensor> NoisyTransform(const at::Tensor& image, int64_t epoch,
                                          int64_t index) {
  KeyedRandom rng({99, static_cast<uint64_t>(epoch), static_cast<uint64_t>(index)});
  at::Tensor out = image.to(at::kFloat);
  return out + static_cast<float>(rng.Uniform());
}

std::vector<Batch> Drain(BatchLoader& loader) {
  std::vector<Batch> batches;
  while (true) {
    absl::StatusOr<Batch> batch = loader.Next();
    if (!batch.ok()) {
      EXPECT_EQ(batch.status().code(), absl::StatusCode::kOutOfRange) << batch.status();
      return batches;
    }
    batches.push_back(*std::move(batch));
  }
}

std::vector<Batch> RunLoader(const Dataset& dataset, LoaderOptions options) {
  auto loader = BatchLoader::Create(&dataset, NoisyTransform, options);
  EXPECT_TRUE(loader.ok()) << loader.status();
  return Drain(**loader);
}

void ExpectSameBatches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].step, b[i].step);
    EXPECT_EQ(a[i].epoch, b[i].epoch);
    EXPECT_TRUE(at::equal(a[i].inputs, b[i].inputs)) << "step " << a[i].step;
    EXPECT_TRUE(at::equal(a[i].labels, b[i].labels)) << "step " << a[i].step;
    EXPECT_TRUE(at::equal(a[i].indices, b[i].indices)) << "step " << a[i].step;
  }
}

TEST(EpochSharderTest, RanksConcatenatedEqualTheWorldSizeOneBatch) {
  ShardOptions options;
  options.dataset_size = 103;
  options.global_batch = 12;
  options.seed = 5;
  const EpochSharder single = EpochSharder::Create(options).value();
  EXPECT_EQ(single.steps_per_epoch(), 8);  // 103 / 12, last partial batch dropped
  for (int64_t world : {2, 3, 4}) {
    std::vector<EpochSharder> ranks;
    for (int64_t r = 0; r < world; ++r) {
      ShardOptions o = options;
      o.world_size = world;
      o.rank = r;
      ranks.push_back(EpochSharder::Create(o).value());
    }
    for (int64_t step = 0; step < 3 * single.steps_per_epoch(); ++step) {
      std::vector<int64_t> joined;
      for (const EpochSharder& rank : ranks) {
        const std::vector<int64_t> part = rank.RankIndices(step);
        EXPECT_EQ(static_cast<int64_t>(part.size()), 12 / world);
        joined.insert(joined.end(), part.begin(), part.end());
      }
      EXPECT_EQ(joined, single.RankIndices(step)) << "world " << world << " step " << step;
    }
  }
}

TEST(EpochSharderTest, EpochVisitsDistinctExamplesInAnEpochKeyedOrder) {
  ShardOptions options;
  options.dataset_size = 100;
  options.global_batch = 10;
  options.seed = 1;
  const EpochSharder sharder = EpochSharder::Create(options).value();
  std::set<int64_t> seen;
  for (int64_t step = 0; step < 10; ++step) {
    for (int64_t i : sharder.RankIndices(step)) seen.insert(i);
  }
  EXPECT_EQ(seen.size(), 100u);  // every example once per epoch
  EXPECT_EQ(sharder.EpochOf(10), 1);
  EXPECT_NE(sharder.RankIndices(0), sharder.RankIndices(10));  // epoch 1 reshuffles
  options.seed = 2;
  EXPECT_NE(EpochSharder::Create(options).value().RankIndices(0), sharder.RankIndices(0));

  options.shuffle = false;
  EXPECT_EQ(EpochSharder::Create(options).value().RankIndices(13),
            (std::vector<int64_t>{30, 31, 32, 33, 34, 35, 36, 37, 38, 39}));
}

TEST(EpochSharderTest, KeepsTheShortLastBatchWithoutDropLast) {
  ShardOptions options;
  options.dataset_size = 25;
  options.global_batch = 10;
  options.world_size = 2;
  options.shuffle = false;
  options.drop_last = false;
  const EpochSharder rank1 = [&] {
    ShardOptions o = options;
    o.rank = 1;
    return EpochSharder::Create(o).value();
  }();
  EXPECT_EQ(rank1.steps_per_epoch(), 3);
  EXPECT_EQ(rank1.GlobalIndices(2), (std::vector<int64_t>{20, 21, 22, 23, 24}));
  EXPECT_EQ(rank1.RankIndices(2), (std::vector<int64_t>{22, 23, 24}));
}

TEST(EpochSharderTest, RejectsInconsistentOptions) {
  ShardOptions options;
  options.dataset_size = 100;
  options.global_batch = 10;
  options.world_size = 3;  // 10 is not a multiple of 3
  auto result = EpochSharder::Create(options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("global_batch"), std::string::npos);
  options.world_size = 2;
  options.rank = 2;
  EXPECT_FALSE(EpochSharder::Create(options).ok());
  options.rank = 0;
  options.global_batch = 200;
  EXPECT_FALSE(EpochSharder::Create(options).ok());
}

TEST(BatchLoaderTest, OutputIsTheSameForOneAndThreeThreads) {
  auto dataset = CountingDataset(50);
  LoaderOptions options;
  options.shard.global_batch = 8;
  options.shard.seed = 3;
  options.end_step = 20;  // crosses three epochs of 6 steps
  const std::vector<Batch> one = RunLoader(*dataset, options);
  options.num_threads = 3;
  options.queue_capacity = 2;
  const std::vector<Batch> three = RunLoader(*dataset, options);
  ASSERT_EQ(one.size(), 20u);
  ExpectSameBatches(one, three);
  // The batch holds what the sharder says, transformed.
  const EpochSharder& sharder = EpochSharder::Create([&] {
    ShardOptions o = options.shard;
    o.dataset_size = 50;
    return o;
  }()).value();
  const std::vector<int64_t> expected = sharder.RankIndices(13);
  EXPECT_EQ(one[13].epoch, 2);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(one[13].indices[i].item<int64_t>(), expected[i]);
    EXPECT_EQ(one[13].labels[i].item<int64_t>(), expected[i] % 10);
    EXPECT_TRUE(at::equal(one[13].inputs[i],
                          NoisyTransform(dataset->Get(expected[i]).image, 2, expected[i])
                              .value()));
  }
  EXPECT_EQ(one[13].inputs.sizes(), (at::IntArrayRef{8, 1, 2, 2}));
}

TEST(BatchLoaderTest, TwoRanksTogetherReproduceTheSingleRankBatches) {
  auto dataset = CountingDataset(64);
  LoaderOptions options;
  options.shard.global_batch = 16;
  options.shard.seed = 8;
  options.end_step = 9;
  const std::vector<Batch> single = RunLoader(*dataset, options);
  options.shard.world_size = 2;
  options.num_threads = 2;
  std::vector<std::vector<Batch>> ranks;
  for (int64_t r = 0; r < 2; ++r) {
    options.shard.rank = r;
    ranks.push_back(RunLoader(*dataset, options));
  }
  for (size_t s = 0; s < single.size(); ++s) {
    EXPECT_TRUE(at::equal(at::cat({ranks[0][s].inputs, ranks[1][s].inputs}), single[s].inputs));
    EXPECT_TRUE(at::equal(at::cat({ranks[0][s].indices, ranks[1][s].indices}),
                          single[s].indices));
  }
}

TEST(BatchLoaderTest, ResumingAtStepKYieldsTheTailOfAFreshRun) {
  auto dataset = CountingDataset(40);
  LoaderOptions options;
  options.shard.global_batch = 6;
  options.end_step = 17;
  options.num_threads = 2;
  const std::vector<Batch> fresh = RunLoader(*dataset, options);
  options.start_step = 11;
  const std::vector<Batch> resumed = RunLoader(*dataset, options);
  ExpectSameBatches(std::vector<Batch>(fresh.begin() + 11, fresh.end()), resumed);
  EXPECT_EQ(resumed.front().step, 11);
}

TEST(BatchLoaderTest, TransformErrorsAndExceptionsBecomeTheStatusOfTheirStep) {
  auto dataset = CountingDataset(30);
  LoaderOptions options;
  options.shard.global_batch = 5;
  options.shard.shuffle = false;
  options.num_threads = 3;
  options.end_step = 6;
  auto failing = [](const at::Tensor& image, int64_t, int64_t index)
      -> absl::StatusOr<at::Tensor> {
    if (index == 17) return absl::FailedPreconditionError("bad pixel");
    return image.to(at::kFloat);
  };
  auto loader = BatchLoader::Create(dataset.get(), failing, options).value();
  for (int step = 0; step < 3; ++step) EXPECT_TRUE(loader->Next().ok()) << step;
  absl::StatusOr<Batch> third = loader->Next();  // samples 15..19
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(third.status().message().find("step 3, sample 17"), std::string::npos)
      << third.status();
  EXPECT_EQ(loader->Next().status(), third.status());  // sticky

  auto throwing = [](const at::Tensor& image, int64_t, int64_t index)
      -> absl::StatusOr<at::Tensor> {
    if (index == 2) return image.reshape({7});  // LibTorch throws c10::Error
    return image.to(at::kFloat);
  };
  auto loader2 = BatchLoader::Create(dataset.get(), throwing, options).value();
  absl::StatusOr<Batch> first = loader2->Next();
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(first.status().message().find("step 0"), std::string::npos) << first.status();
}

TEST(BatchLoaderTest, DestructorJoinsWorkersWithBatchesStillQueued) {
  auto dataset = CountingDataset(100);
  std::atomic<int64_t> calls{0};
  LoaderOptions options;
  options.shard.global_batch = 4;
  options.num_threads = 3;
  options.queue_capacity = 2;  // unbounded run: workers block on the queue
  {
    auto loader = BatchLoader::Create(
                      dataset.get(),
                      [&calls](const at::Tensor& image, int64_t, int64_t)
                          -> absl::StatusOr<at::Tensor> {
                        ++calls;
                        return image.to(at::kFloat);
                      },
                      options)
                      .value();
    EXPECT_TRUE(loader->Next().ok());
  }
  // At most the delivered batch plus `queue_capacity` more were ever built.
  EXPECT_LE(calls.load(), 4 * (1 + 2));
}

TEST(BatchLoaderTest, RejectsBadOptions) {
  auto dataset = CountingDataset(10);
  LoaderOptions options;
  options.shard.global_batch = 4;
  options.num_threads = 0;
  EXPECT_FALSE(BatchLoader::Create(dataset.get(), NoisyTransform, options).ok());
  options.num_threads = 1;
  options.start_step = 5;
  options.end_step = 2;
  EXPECT_FALSE(BatchLoader::Create(dataset.get(), NoisyTransform, options).ok());
  options.end_step = -1;
  options.shard.global_batch = 11;  // more than the dataset with drop_last
  EXPECT_FALSE(BatchLoader::Create(dataset.get(), NoisyTransform, options).ok());
  options.shard.global_batch = 4;
  EXPECT_FALSE(BatchLoader::Create(dataset.get(), nullptr, options).ok());
  EXPECT_FALSE(BatchLoader::Create(nullptr, NoisyTransform, options).ok());
}

}  // namespace
}  // namespace simclr::model
