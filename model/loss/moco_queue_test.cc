#include "model/loss/moco_queue.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/nn/module.h>
#include <torch/types.h>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace simclr::model {
namespace {

// Unit rows [cos a, sin a] for the given angles: normalisation keeps them, so
// each row is recognisable by its angle after a round trip.
torch::Tensor UnitRows(const std::vector<double>& angles) {
  torch::Tensor a = torch::tensor(angles, torch::kFloat64);
  return torch::stack({a.cos(), a.sin()}, 1);
}

std::vector<double> Angles(const torch::Tensor& rows) {
  torch::Tensor a = torch::atan2(rows.select(1, 1), rows.select(1, 0)).contiguous();
  std::vector<double> out(a.data_ptr<double>(), a.data_ptr<double>() + a.numel());
  for (double& x : out) x = std::round(x * 1e6) / 1e6;
  return out;
}

std::unique_ptr<MocoQueue> MakeQueue(int64_t capacity) {
  auto queue = MocoQueue::Create({capacity, 2}, torch::kFloat64);
  EXPECT_TRUE(queue.ok()) << queue.status();
  return std::move(queue).value();
}

TEST(MocoQueueTest, EnqueueWrapsAroundDroppingOldestFirst) {
  std::unique_ptr<MocoQueue> queue = MakeQueue(5);
  ASSERT_TRUE(queue->Enqueue(UnitRows({0.1, 0.2, 0.3})).ok());
  EXPECT_EQ(queue->size(), 3);
  EXPECT_EQ(Angles(queue->Entries()), std::vector<double>({0.1, 0.2, 0.3}));

  // 4 more into 2 free slots: 0.1 and 0.2 are overwritten.
  ASSERT_TRUE(queue->Enqueue(UnitRows({0.4, 0.5, 0.6, 0.7})).ok());
  EXPECT_EQ(queue->size(), 5);
  EXPECT_EQ(Angles(queue->Entries()),
            std::vector<double>({0.3, 0.4, 0.5, 0.6, 0.7}));

  ASSERT_TRUE(queue->Dequeue(2).ok());
  EXPECT_EQ(Angles(queue->Entries()), std::vector<double>({0.5, 0.6, 0.7}));
  ASSERT_TRUE(queue->Enqueue(UnitRows({0.8, 0.9})).ok());
  EXPECT_EQ(Angles(queue->Entries()),
            std::vector<double>({0.5, 0.6, 0.7, 0.8, 0.9}));
  // Negatives hold the same rows (in storage order).
  std::vector<double> negatives = Angles(queue->Negatives());
  std::sort(negatives.begin(), negatives.end());
  EXPECT_EQ(negatives, std::vector<double>({0.5, 0.6, 0.7, 0.8, 0.9}));
}

TEST(MocoQueueTest, OversizedBatchKeepsOnlyTheNewestCapacityRows) {
  std::unique_ptr<MocoQueue> queue = MakeQueue(3);
  ASSERT_TRUE(queue->Enqueue(UnitRows({0.1})).ok());
  ASSERT_TRUE(queue->Enqueue(UnitRows({1.1, 1.2, 1.3, 1.4, 1.5})).ok());
  EXPECT_EQ(Angles(queue->Entries()), std::vector<double>({1.3, 1.4, 1.5}));
}

TEST(MocoQueueTest, StoresNormalisedDetachedRows) {
  std::unique_ptr<MocoQueue> queue = MakeQueue(4);
  torch::Tensor keys =
      torch::tensor({{3.0, 4.0}, {0.0, -2.0}}, torch::kFloat64).requires_grad_(true);
  ASSERT_TRUE(queue->Enqueue(keys).ok());
  torch::Tensor entries = queue->Entries();
  EXPECT_FALSE(entries.requires_grad());
  EXPECT_TRUE(torch::allclose(
      entries, torch::tensor({{0.6, 0.8}, {0.0, -1.0}}, torch::kFloat64)));
}

TEST(MocoQueueTest, RestoreReproducesSavedEntries) {
  std::unique_ptr<MocoQueue> queue = MakeQueue(4);
  ASSERT_TRUE(queue->Enqueue(UnitRows({0.1, 0.2, 0.3, 0.4, 0.5, 0.6})).ok());
  torch::Tensor saved = queue->Entries();
  std::unique_ptr<MocoQueue> restored = MakeQueue(4);
  ASSERT_TRUE(restored->Restore(saved).ok());
  EXPECT_EQ(Angles(restored->Entries()), std::vector<double>({0.3, 0.4, 0.5, 0.6}));
  // FIFO order survives: the next enqueue drops 0.3 first.
  ASSERT_TRUE(restored->Enqueue(UnitRows({0.7})).ok());
  EXPECT_EQ(Angles(restored->Entries()), std::vector<double>({0.4, 0.5, 0.6, 0.7}));
}

// Restored at the saved head, the storage is the saved queue's: negatives
// come in the same order, so sums over them round the same way.
TEST(MocoQueueTest, RestoreAtTheSavedHeadKeepsTheStorageOrder) {
  std::unique_ptr<MocoQueue> queue = MakeQueue(4);
  ASSERT_TRUE(queue->Enqueue(UnitRows({0.1, 0.2, 0.3, 0.4})).ok());
  ASSERT_TRUE(queue->Enqueue(UnitRows({0.5, 0.6})).ok());
  ASSERT_EQ(queue->head(), 2);
  std::unique_ptr<MocoQueue> restored = MakeQueue(4);
  ASSERT_TRUE(restored->Restore(queue->Entries(), queue->head()).ok());
  EXPECT_TRUE(restored->Negatives().equal(queue->Negatives()));
  std::unique_ptr<MocoQueue> at_zero = MakeQueue(4);
  ASSERT_TRUE(at_zero->Restore(queue->Entries()).ok());
  EXPECT_FALSE(at_zero->Negatives().equal(queue->Negatives()));
  EXPECT_EQ(restored->Restore(queue->Entries(), 4).code(), absl::StatusCode::kInvalidArgument);

  // Bit for bit with arbitrary keys too: entries are not normalised again.
  torch::manual_seed(2);
  auto wide = MocoQueue::Create({64, 16}, torch::kFloat32).value();
  ASSERT_TRUE(wide->Enqueue(torch::randn({100, 16})).ok());
  auto copy = MocoQueue::Create({64, 16}, torch::kFloat32).value();
  ASSERT_TRUE(copy->Restore(wide->Entries(), wide->head()).ok());
  EXPECT_TRUE(copy->Negatives().equal(wide->Negatives()));
}

TEST(MocoQueueTest, RejectsBadShapesAndOverDequeue) {
  std::unique_ptr<MocoQueue> queue = MakeQueue(4);
  EXPECT_EQ(queue->Enqueue(torch::ones({2, 3}, torch::kFloat64)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(queue->Dequeue(1).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(queue->Restore(torch::ones({5, 2}, torch::kFloat64)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MocoQueue::Create({0, 2}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MocoNtXentLossTest, UsesQueueEntriesAsNegativesAndSurvivesEnqueueBeforeBackward) {
  torch::manual_seed(11);
  std::unique_ptr<MocoQueue> queue = MakeQueue(6);
  ASSERT_TRUE(queue->Enqueue(torch::randn({6, 2}, torch::kFloat64)).ok());
  torch::Tensor z1 = torch::randn({3, 2}, torch::kFloat64).requires_grad_(true);
  torch::Tensor z2 = torch::randn({3, 2}, torch::kFloat64).requires_grad_(true);
  auto expected = NtXentLossWithExtraNegatives(z1, z2, queue->Entries(), {0.2});
  ASSERT_TRUE(expected.ok());
  auto out = MocoNtXentLoss(z1, z2, *queue, {0.2});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_NEAR(out->loss.item<double>(), expected->loss.item<double>(), 1e-12);
  // The usual MoCo order: loss, enqueue this step's keys, then backward.
  ASSERT_TRUE(queue->Enqueue(torch::randn({2, 2}, torch::kFloat64)).ok());
  EXPECT_NO_THROW(out->loss.backward());
  EXPECT_TRUE(z1.grad().defined());
}

TEST(MocoQueueTest, EnqueueFromAllRanksKeepsGlooRanksIdenticalInRankOrder) {
  constexpr int kWorld = 2;
  auto store = c10::make_intrusive<c10d::HashStore>();
  std::vector<std::vector<double>> angles(kWorld);
  std::vector<absl::Status> statuses(kWorld);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < kWorld; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        auto options = c10d::ProcessGroupGloo::Options::create();
        options->devices.push_back(
            c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
        options->timeout = std::chrono::seconds(60);
        auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(
            store, rank, kWorld, options);
        auto queue = MocoQueue::Create({3, 2}, torch::kFloat64);
        if (!queue.ok()) {
          statuses[rank] = queue.status();
          return;
        }
        // Rank r contributes angles r + 0.1, r + 0.2.
        statuses[rank] = (*queue)->EnqueueFromAllRanks(
            UnitRows({rank + 0.1, rank + 0.2}), group.get());
        angles[rank] = Angles((*queue)->Entries());
      } catch (const std::exception& e) {
        statuses[rank] = absl::InternalError(e.what());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : statuses) ASSERT_TRUE(s.ok()) << s;
  // Four keys into capacity 3: rank 0's first key is the one dropped.
  EXPECT_EQ(angles[0], std::vector<double>({0.2, 1.1, 1.2}));
  EXPECT_EQ(angles[1], angles[0]);
}

struct Net : torch::nn::Module {
  explicit Net(double fill) {
    w = register_parameter("w", torch::full({2, 2}, fill, torch::kFloat64));
    b = register_parameter("b", torch::full({2}, 2 * fill, torch::kFloat64));
    running = register_buffer("running", torch::full({2}, fill, torch::kFloat64));
  }
  torch::Tensor w, b, running;
};

TEST(EmaUpdateTest, MovesKeyParametersTowardsOnlineAndLeavesBuffers) {
  Net online(1.0), key(0.0);
  ASSERT_TRUE(EmaUpdate(online, key, 0.9).ok());
  // key = 0.9 * 0 + 0.1 * 1 for w; 0.1 * 2 for b.
  EXPECT_NEAR(key.w[0][0].item<double>(), 0.1, 1e-15);
  EXPECT_NEAR(key.b[1].item<double>(), 0.2, 1e-15);
  ASSERT_TRUE(EmaUpdate(online, key, 0.9).ok());
  // 0.9 * 0.1 + 0.1 * 1 = 0.19 after the second update.
  EXPECT_NEAR(key.w[1][1].item<double>(), 0.19, 1e-15);
  EXPECT_NEAR(key.b[0].item<double>(), 0.38, 1e-15);
  EXPECT_EQ(key.running[0].item<double>(), 0.0);
  EXPECT_FALSE(key.w.grad().defined());

  ASSERT_TRUE(EmaUpdate(online, key, 0.0).ok());  // momentum 0 copies
  EXPECT_EQ(key.w[0][1].item<double>(), 1.0);
}

struct OtherNet : torch::nn::Module {
  OtherNet() { w = register_parameter("w", torch::zeros({3}, torch::kFloat64)); }
  torch::Tensor w;
};

TEST(EmaUpdateTest, RejectsMismatchedNetworksAndBadMomentum) {
  Net online(1.0), key(0.0);
  OtherNet other;
  absl::Status mismatch = EmaUpdate(online, other, 0.9);
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EmaUpdate(online, key, 1.5).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(other.w.abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace simclr::model
