#include "model/distributed/all_gather.h"

#include <vector>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/types.h>

#include "gtest/gtest.h"
#include "model/distributed/testing/multi_rank.h"

namespace simclr::model {
namespace {

// Rank r's rows: distinct per rank and per element, so order errors show.
torch::Tensor LocalRows(int rank) {
  return torch::arange(6, torch::kDouble).view({2, 3}) + 100.0 * rank;
}

// Rank r's upstream gradient for the gathered [4, 3] tensor; different on
// each rank, so a backward that skips the sum over ranks is caught.
torch::Tensor Upstream(int rank) {
  return torch::arange(12, torch::kDouble).view({4, 3}) * (rank + 1.0) +
         10.0 * rank;
}

TEST(AllGatherWithGradTest, ConcatenatesInRankOrderOnEveryRank) {
  std::vector<torch::Tensor> gathered(2);
  const absl::Status status =
      testing::RunOnRanks(2, [&](int rank, c10d::ProcessGroup& group) {
        gathered[rank] = AllGatherWithGrad(LocalRows(rank), &group);
      });
  ASSERT_TRUE(status.ok()) << status;
  const torch::Tensor expected = torch::cat({LocalRows(0), LocalRows(1)});
  EXPECT_TRUE(torch::equal(gathered[0], expected));
  EXPECT_TRUE(torch::equal(gathered[1], expected));
}

TEST(AllGatherWithGradTest, BackwardReturnsThisRanksSliceOfSummedGradient) {
  std::vector<torch::Tensor> grads(2);
  const absl::Status status =
      testing::RunOnRanks(2, [&](int rank, c10d::ProcessGroup& group) {
        torch::Tensor local = LocalRows(rank).requires_grad_(true);
        torch::Tensor gathered = AllGatherWithGrad(local, &group);
        // Each rank's loss also uses `local` directly: both paths must add.
        ((gathered * Upstream(rank)).sum() + (local * local).sum()).backward();
        grads[rank] = local.grad();
      });
  ASSERT_TRUE(status.ok()) << status;
  const torch::Tensor summed = Upstream(0) + Upstream(1);
  EXPECT_TRUE(torch::allclose(grads[0],
                              summed.slice(0, 0, 2) + 2.0 * LocalRows(0)));
  EXPECT_TRUE(torch::allclose(grads[1],
                              summed.slice(0, 2, 4) + 2.0 * LocalRows(1)));
}

TEST(AllGatherWithGradTest, WithoutGroupReturnsInputUnchanged) {
  torch::Tensor local = LocalRows(0).requires_grad_(true);
  torch::Tensor result = AllGatherWithGrad(local, nullptr);
  EXPECT_TRUE(torch::equal(result, local));
  (result * 3.0).sum().backward();
  EXPECT_TRUE(torch::equal(local.grad(), torch::full({2, 3}, 3.0,
                                                      torch::kDouble)));
}

}  // namespace
}  // namespace simclr::model
