#include "model/distributed/process_group.h"

#include <string>
#include <thread>
#include <vector>

#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/types.h>

#include "absl/status/status.h"
#include "common/loopback.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "model/distributed/collectives.h"
#include "model/distributed/testing/multi_rank.h"

namespace simclr::model {
namespace {

ProcessGroupOptions LoopbackOptions(int rank, int world_size, int port) {
  ProcessGroupOptions options;
  options.rank = rank;
  options.world_size = world_size;
  options.master_address = absl::StrCat("127.0.0.1:", port);
  options.prefix = "attempt-0";
  options.timeout = absl::Seconds(2);
  return options;
}

TEST(CreateProcessGroupTest, TwoRanksJoinAndSumOverLoopback) {
  std::vector<torch::Tensor> sums(2);
  std::vector<int> ranks(2, -1), sizes(2, -1);
  ASSERT_TRUE(testing::RunOnRanks(2, [&](int rank, c10d::ProcessGroup& group) {
                ranks[rank] = group.getRank();
                sizes[rank] = group.getSize();
                sums[rank] = AllReduceSum(
                    torch::full({3}, rank + 1.0, torch::kFloat), &group);
              }).ok());
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_EQ(ranks[rank], rank);
    EXPECT_EQ(sizes[rank], 2);
    EXPECT_TRUE(torch::equal(sums[rank], torch::full({3}, 3.0f)));
  }
}

TEST(CreateProcessGroupTest, WorldSizeOneNeedsNoMasterAddress) {
  ProcessGroupOptions options;
  options.world_size = 1;
  auto group = CreateProcessGroup(options);
  ASSERT_TRUE(group.ok()) << group.status();
  torch::Tensor sum = AllReduceSum(torch::arange(4.0), group->get());
  EXPECT_TRUE(torch::equal(sum, torch::arange(4.0)));
}

TEST(CreateProcessGroupTest, MasterWithoutPeerFailsWithinTimeout) {
  auto port = PickUnusedLoopbackPort();
  ASSERT_TRUE(port.ok());
  // Rank 1 never shows up: rank 0 must give up, not wait forever.
  auto group = CreateProcessGroup(LoopbackOptions(0, 2, *port));
  ASSERT_FALSE(group.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(group.status()) ||
              absl::IsUnavailable(group.status()))
      << group.status();
  EXPECT_TRUE(absl::StrContains(group.status().message(), "rank 0 of 2"))
      << group.status();
}

TEST(CreateProcessGroupTest, PeerWithoutMasterFailsWithinTimeout) {
  auto port = PickUnusedLoopbackPort();
  ASSERT_TRUE(port.ok());
  // Nobody serves the store on `port`.
  auto group = CreateProcessGroup(LoopbackOptions(1, 2, *port));
  ASSERT_FALSE(group.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(group.status()) ||
              absl::IsUnavailable(group.status()))
      << group.status();
}

TEST(CreateProcessGroupTest, CollectiveFailsWhenPeerStopsParticipating) {
  absl::Notification rank0_done;
  bool rank0_threw = false;
  std::string rank0_error;
  ASSERT_TRUE(
      testing::RunOnRanks(
          2,
          [&](int rank, c10d::ProcessGroup& group) {
            if (rank == 1) {
              // Alive but silent: never joins the allreduce.
              rank0_done.WaitForNotification();
              return;
            }
            try {
              AllReduceSum(torch::ones({4}), &group);
            } catch (const c10::Error& e) {
              rank0_threw = true;
              rank0_error = e.what();
            }
            rank0_done.Notify();
          },
          absl::Seconds(2))
          .ok());
  EXPECT_TRUE(rank0_threw);
  EXPECT_TRUE(absl::StrContains(rank0_error, "allreduce")) << rank0_error;
}

TEST(CreateProcessGroupTest, RejectsRankOutsideWorld) {
  auto status = CreateProcessGroup(LoopbackOptions(2, 2, 1234)).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "rank")) << status;
}

TEST(CreateProcessGroupTest, RejectsAddressWithoutPort) {
  ProcessGroupOptions options = LoopbackOptions(0, 2, 1);
  options.master_address = "127.0.0.1";
  auto status = CreateProcessGroup(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "master_address")) << status;
}

TEST(CreateProcessGroupTest, RejectsUnknownBackend) {
  ProcessGroupOptions options = LoopbackOptions(0, 2, 1);
  options.backend = "mpi";
  auto status = CreateProcessGroup(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "backend")) << status;
}

TEST(CreateProcessGroupTest, RejectsNonPositiveTimeout) {
  ProcessGroupOptions options = LoopbackOptions(0, 2, 1);
  options.timeout = absl::ZeroDuration();
  EXPECT_TRUE(absl::IsInvalidArgument(CreateProcessGroup(options).status()));
}

#ifndef USE_C10D_NCCL
TEST(CreateProcessGroupTest, NcclIsUnimplementedWithoutNccl) {
  ProcessGroupOptions options = LoopbackOptions(0, 2, 1);
  options.backend = "nccl";
  EXPECT_TRUE(absl::IsUnimplemented(CreateProcessGroup(options).status()));
}
#endif

}  // namespace
}  // namespace simclr::model
