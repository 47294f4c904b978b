#include "coordinator/worker_registry.h"

#include <algorithm>
#include "common/testing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simclr::coordinator {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

v1::RegisterWorkerRequest Request(const std::string& name = "") {
  v1::RegisterWorkerRequest r;
  r.set_device_kind("cpu");
  r.set_collective_address("127.0.0.1:1234");
  r.set_name(name);
  return r;
}

class WorkerRegistryTest : public ::testing::Test {
 protected:
  // `d` passes while the coordinator runs: its ticker expires leases every
  // half heartbeat interval. Returns the workers lost meanwhile.
  std::vector<std::string> RunFor(absl::Duration d) {
    std::vector<std::string> lost;
    for (absl::Duration step = absl::Milliseconds(500); d > absl::ZeroDuration(); d -= step) {
      clock_.Advance(std::min(step, d));
      for (const std::string& id : registry_.ExpireLeases()) lost.push_back(id);
    }
    return lost;
  }

  FakeClock clock_;
  WorkerRegistry registry_{clock_, WorkerRegistryOptions{absl::Seconds(2), 3, absl::Hours(1)}};
};

TEST_F(WorkerRegistryTest, ExpiresAWorkerAfterThreeMissedHeartbeats) {
  const std::string a = registry_.Register(Request());
  const std::string b = registry_.Register(Request());
  EXPECT_THAT(RunFor(absl::Seconds(5)), IsEmpty());  // 5 s < 6 s lease
  ASSERT_TRUE(registry_.Heartbeat(b).ok());
  EXPECT_THAT(RunFor(absl::Seconds(1.5)), ElementsAre(a));
  EXPECT_EQ(registry_.Find(a)->state(), v1::LOST);
  EXPECT_TRUE(registry_.IsLive(b));
  EXPECT_EQ(registry_.Heartbeat(a).code(), absl::StatusCode::kNotFound);
}

// Reported: the coordinator paused for 8 s (kill -STOP) and every running
// worker was declared lost at once. A coordinator that was away heard nobody;
// its workers get a full lease from its return (NOTE [coordinator stalls]).
TEST_F(WorkerRegistryTest, ACoordinatorStallLosesNoWorker) {
  const std::string a = registry_.Register(Request());
  const std::string b = registry_.Register(Request());
  EXPECT_THAT(RunFor(absl::Seconds(1)), IsEmpty());
  clock_.Advance(absl::Seconds(18));  // stopped for three leases: no tick
  EXPECT_THAT(registry_.ExpireLeases(), IsEmpty());
  EXPECT_TRUE(registry_.IsLive(a));
  // Back to normal: b heartbeats, a stays silent for a whole lease.
  ASSERT_TRUE(registry_.Heartbeat(b).ok());
  EXPECT_THAT(RunFor(absl::Seconds(5.5)), IsEmpty());
  ASSERT_TRUE(registry_.Heartbeat(b).ok());
  EXPECT_THAT(RunFor(absl::Seconds(1)), ElementsAre(a));
  EXPECT_TRUE(registry_.IsLive(b));
}

TEST_F(WorkerRegistryTest, ForgetsLostWorkersAfterAnHour) {
  const std::string a = registry_.Register(Request());
  EXPECT_THAT(RunFor(absl::Seconds(7)), ElementsAre(a));
  EXPECT_EQ(registry_.List().size(), 1u);
  clock_.Advance(absl::Hours(2));
  registry_.ExpireLeases();
  EXPECT_TRUE(registry_.List().empty());
  EXPECT_EQ(registry_.Find(a), nullptr);
}

TEST_F(WorkerRegistryTest, AssignmentIsResentUntilAcknowledged) {
  const std::string a = registry_.Register(Request());
  v1::TaskAssignment task;
  task.set_task_id("j-1.1");
  task.set_job_id("j-1");
  registry_.Assign(a, task);
  EXPECT_EQ(registry_.Find(a)->state(), v1::BUSY);
  ASSERT_TRUE(registry_.Undelivered(a).has_value());
  registry_.Acknowledge(a, "j-9.1");  // not its task: ignored
  ASSERT_TRUE(registry_.Undelivered(a).has_value());
  registry_.Acknowledge(a, "j-1.1");
  EXPECT_FALSE(registry_.Undelivered(a).has_value());
  EXPECT_TRUE(registry_.IdleWorkers("cpu").empty());
  EXPECT_FALSE(registry_.Release(a, "j-1.2"));
  EXPECT_TRUE(registry_.Release(a, "j-1.1"));
  EXPECT_EQ(registry_.Find(a)->state(), v1::IDLE);
  EXPECT_EQ(registry_.IdleWorkers("cpu").size(), 1u);
}

// The counts the scheduler reads for free equal a recount of the fleet after
// every kind of change.
TEST_F(WorkerRegistryTest, CountsFollowEveryStateChange) {
  auto expect_counts = [this](const char* when) {
    std::map<std::string, int> live, idle;
    for (const v1::Worker& w : registry_.List()) {
      if (w.state() == v1::IDLE || w.state() == v1::BUSY) ++live[w.device_kind()];
      if (w.state() == v1::IDLE && !w.draining()) ++idle[w.device_kind()];
    }
    EXPECT_EQ(registry_.LiveCountByDevice(), live) << when;
    for (const char* device : {"cpu", "cuda"}) {
      EXPECT_EQ(registry_.IdleCount(device), idle[device]) << when << " " << device;
    }
    for (const char* device : {"cpu", "cuda"}) {
      EXPECT_EQ(static_cast<int>(registry_.IdleWorkers(device).size()), idle[device]) << when;
      EXPECT_EQ(registry_.IdleCountByDevice()[device], idle[device]) << when;
    }
  };
  v1::RegisterWorkerRequest gpu = Request();
  gpu.set_device_kind("cuda");
  const std::string a = registry_.Register(Request());
  const std::string b = registry_.Register(Request("pod-b"));
  const std::string g = registry_.Register(gpu);
  expect_counts("registered");
  v1::TaskAssignment task;
  task.set_task_id("j-1.1");
  registry_.Assign(a, task);
  expect_counts("assigned");
  registry_.SetDraining(b);
  expect_counts("draining");
  registry_.Register(Request("pod-b"));  // the name again: replaces the draining one
  expect_counts("re-registered");
  ASSERT_TRUE(registry_.Release(a, "j-1.1"));
  expect_counts("released");
  ASSERT_TRUE(registry_.Deregister(g).ok());
  expect_counts("deregistered");
  registry_.Heartbeat(a).IgnoreError();
  RunFor(absl::Seconds(30));  // every lease runs out
  expect_counts("lost");
  EXPECT_TRUE(registry_.LiveCountByDevice().empty());
}

TEST_F(WorkerRegistryTest, ReRegisteringANameReplacesTheLiveWorker) {
  const std::string a = registry_.Register(Request("pod-0"));
  EXPECT_EQ(a, "pod-0");
  v1::TaskAssignment task;
  task.set_task_id("j-1.1");
  registry_.Assign(a, task);
  registry_.Register(Request("pod-0"));
  EXPECT_EQ(registry_.List().size(), 1u);
  EXPECT_EQ(registry_.Find("pod-0")->state(), v1::IDLE);
  EXPECT_EQ(registry_.TaskOf("pod-0"), "");  // the old process's task is gone
}

TEST_F(WorkerRegistryTest, AGeneratedIdNeverTakesANameAWorkerChose) {
  // A worker named like the next generated id: the next unnamed worker gets
  // another id, and both stay listed and live.
  const std::string named = registry_.Register(Request("w-2"));
  const std::string unnamed = registry_.Register(Request());
  EXPECT_EQ(named, "w-2");
  EXPECT_NE(unnamed, named);
  EXPECT_EQ(registry_.List().size(), 2u);
  EXPECT_TRUE(registry_.IsLive(named));
  EXPECT_TRUE(registry_.IsLive(unnamed));
  EXPECT_EQ(registry_.LiveCountByDevice().at("cpu"), 2);
}

TEST_F(WorkerRegistryTest, AWorkerThatKeepsFailingIsUnhealthyUntilItCompletesATask) {
  const std::string a = registry_.Register(Request());
  registry_.RecordTaskOutcome(a, /*failed=*/true);
  registry_.RecordTaskOutcome(a, /*failed=*/true);
  EXPECT_EQ(registry_.Find(a)->consecutive_failures(), 2);
  EXPECT_FALSE(registry_.Find(a)->unhealthy());
  registry_.RecordTaskOutcome(a, /*failed=*/true);
  EXPECT_TRUE(registry_.Find(a)->unhealthy());
  registry_.RecordTaskOutcome(a, /*failed=*/false);
  EXPECT_EQ(registry_.Find(a)->consecutive_failures(), 0);
  EXPECT_FALSE(registry_.Find(a)->unhealthy());
  registry_.RecordTaskOutcome("w-unknown", /*failed=*/true);  // ignored
}

}  // namespace
}  // namespace simclr::coordinator
