#include "model/distributed/grad_sync.h"

#include <vector>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/types.h>

#include "gtest/gtest.h"
#include "model/distributed/testing/multi_rank.h"

namespace simclr::model {
namespace {

// Mixed shapes and dtypes: [3, 4] f32 (48 B), [5] f32, [2, 2, 2] f64,
// [1] f32, [7] f64.
std::vector<torch::Tensor> MakeParameters() {
  return {torch::zeros({3, 4}, torch::kFloat).requires_grad_(true),
          torch::zeros({5}, torch::kFloat).requires_grad_(true),
          torch::zeros({2, 2, 2}, torch::kDouble).requires_grad_(true),
          torch::zeros({1}, torch::kFloat).requires_grad_(true),
          torch::zeros({7}, torch::kDouble).requires_grad_(true)};
}

// Integer-valued gradients, different per rank and per parameter; their
// mean over two ranks is exact in binary floating point.
torch::Tensor RankGradient(const torch::Tensor& p, int index, int rank) {
  return (torch::arange(p.numel(), p.options().requires_grad(false)) *
              (rank + 1) +
          100 * index + 7 * rank)
      .view(p.sizes());
}

TEST(GradientSynchronizerTest, AveragesMixedShapesAcrossBucketsExactly) {
  std::vector<std::vector<torch::Tensor>> grads(2);
  std::vector<int> buckets(2);
  const absl::Status status =
      testing::RunOnRanks(2, [&](int rank, c10d::ProcessGroup& group) {
        std::vector<torch::Tensor> parameters = MakeParameters();
        for (int i = 0; i < static_cast<int>(parameters.size()); ++i) {
          parameters[i].mutable_grad() = RankGradient(parameters[i], i, rank);
        }
        // 40 bytes: the [3, 4] f32 parameter alone exceeds a bucket.
        GradientSynchronizer sync(parameters, &group, {.bucket_bytes = 40});
        buckets[rank] = sync.num_buckets();
        const absl::Status synced = sync.Synchronize();
        EXPECT_TRUE(synced.ok()) << synced;
        for (const torch::Tensor& p : parameters) {
          grads[rank].push_back(p.grad());
        }
      });
  ASSERT_TRUE(status.ok()) << status;
  // f32: {[3,4]}, {[5], [1]} (24 B); f64: {[2,2,2]} (64 B), {[7]} (56 B).
  EXPECT_EQ(buckets[0], 4);
  const std::vector<torch::Tensor> parameters = MakeParameters();
  for (int i = 0; i < static_cast<int>(parameters.size()); ++i) {
    const torch::Tensor expected = (RankGradient(parameters[i], i, 0) +
                                    RankGradient(parameters[i], i, 1)) /
                                   2;
    for (int rank = 0; rank < 2; ++rank) {
      ASSERT_EQ(grads[rank].size(), parameters.size());
      EXPECT_TRUE(torch::equal(grads[rank][i], expected))
          << "parameter " << i << " on rank " << rank;
    }
  }
}

TEST(GradientSynchronizerTest, OneBigBucketGivesTheSameMeans) {
  std::vector<torch::Tensor> grads(2);
  int buckets = -1;
  const absl::Status status =
      testing::RunOnRanks(2, [&](int rank, c10d::ProcessGroup& group) {
        std::vector<torch::Tensor> parameters = MakeParameters();
        for (int i = 0; i < static_cast<int>(parameters.size()); ++i) {
          parameters[i].mutable_grad() = RankGradient(parameters[i], i, rank);
        }
        GradientSynchronizer sync(parameters, &group);
        if (rank == 0) buckets = sync.num_buckets();
        EXPECT_TRUE(sync.Synchronize().ok());
        grads[rank] = parameters[0].grad();
      });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(buckets, 2);  // one per dtype
  const torch::Tensor p = MakeParameters()[0];
  EXPECT_TRUE(torch::equal(
      grads[1], (RankGradient(p, 0, 0) + RankGradient(p, 0, 1)) / 2));
}

TEST(GradientSynchronizerTest, MissingGradientCountsAsZero) {
  std::vector<torch::Tensor> grads(2);
  const absl::Status status =
      testing::RunOnRanks(2, [&](int rank, c10d::ProcessGroup& group) {
        torch::Tensor p = torch::zeros({3}).requires_grad_(true);
        if (rank == 1) p.mutable_grad() = torch::full({3}, 4.0f);
        GradientSynchronizer sync({p}, &group);
        EXPECT_TRUE(sync.Synchronize().ok());
        grads[rank] = p.grad();
      });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(torch::equal(grads[0], torch::full({3}, 2.0f)));
  EXPECT_TRUE(torch::equal(grads[1], torch::full({3}, 2.0f)));
}

TEST(GradientSynchronizerTest, WithoutGroupLeavesGradientsUntouched) {
  torch::Tensor p = torch::zeros({2}).requires_grad_(true);
  p.mutable_grad() = torch::tensor({1.5f, -3.0f});
  GradientSynchronizer sync({p}, nullptr);
  EXPECT_EQ(sync.num_buckets(), 0);
  EXPECT_TRUE(sync.Synchronize().ok());
  EXPECT_TRUE(torch::equal(p.grad(), torch::tensor({1.5f, -3.0f})));
}

TEST(GradientSynchronizerTest, RejectsGradientOfWrongShapeBeforeCommunicating) {
  const absl::Status status =
      testing::RunOnRanks(2, [&](int rank, c10d::ProcessGroup& group) {
        torch::Tensor p = torch::zeros({4}).requires_grad_(true);
        // Both ranks are wrong, so neither waits on the other.
        p.mutable_grad() = torch::zeros({2, 2});
        GradientSynchronizer sync({p}, &group);
        const absl::Status synced = sync.Synchronize();
        EXPECT_TRUE(absl::IsInvalidArgument(synced)) << synced;
      });
  EXPECT_TRUE(status.ok()) << status;
}

}  // namespace
}  // namespace simclr::model
