#include "coordinator/scheduler.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simclr::coordinator {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::Job Queued(const std::string& id, int world_size, int priority, int64_t queued_seconds,
               const std::string& device = "cpu") {
  v1::Job job;
  job.set_id(id);
  job.set_state(v1::QUEUED);
  job.mutable_spec()->set_world_size(world_size);
  job.mutable_spec()->set_priority(priority);
  job.mutable_spec()->set_device(device);
  job.mutable_queued_at()->set_seconds(queued_seconds);
  return job;
}

v1::Worker Idle(const std::string& id, const std::string& device = "cpu") {
  v1::Worker w;
  w.set_id(id);
  w.set_device_kind(device);
  w.set_state(v1::IDLE);
  return w;
}

template <typename T>
std::vector<const T*> Ptrs(const std::vector<T>& v) {
  std::vector<const T*> out;
  for (const T& x : v) out.push_back(&x);
  return out;
}

TEST(SchedulerTest, PlacesAWholeGangWithRanksInWorkerOrder) {
  std::vector<v1::Job> jobs = {Queued("j-1", 2, 0, 10)};
  std::vector<v1::Worker> workers = {Idle("w-1"), Idle("w-2"), Idle("w-3")};
  SchedulingDecision d = PlaceGangs(Ptrs(jobs), Ptrs(workers), {{"cpu", 3}});
  ASSERT_EQ(d.placements.size(), 1u);
  EXPECT_EQ(d.placements[0].job_id, "j-1");
  EXPECT_THAT(d.placements[0].worker_ids, ElementsAre("w-1", "w-2"));
}

// NOTE [scheduling cost]: a queue that cannot start never lists the fleet,
// and a kind is listed once however many of its jobs start.
TEST(SchedulerTest, ListsIdleWorkersOnlyOfKindsAJobCanStartOn) {
  std::vector<v1::Job> jobs = {Queued("j-1", 2, 0, 10, "cuda"), Queued("j-2", 1, 0, 11),
                               Queued("j-3", 1, 0, 12)};
  std::vector<v1::Worker> workers = {Idle("w-1"), Idle("w-2"), Idle("g-1", "cuda")};
  std::vector<std::string> asked;
  FleetView fleet;
  fleet.idle_workers = [&](const std::string& device) {
    asked.push_back(device);
    std::vector<const v1::Worker*> of_device;
    for (const v1::Worker& w : workers) {
      if (w.device_kind() == device) of_device.push_back(&w);
    }
    return of_device;
  };
  fleet.idle_count_by_device = {{"cpu", 2}, {"cuda", 1}};
  fleet.live_count_by_device = {{"cpu", 2}, {"cuda", 4}};
  SchedulingDecision d = PlaceGangs(Ptrs(jobs), fleet);
  EXPECT_THAT(asked, ElementsAre("cpu"));
  ASSERT_EQ(d.placements.size(), 2u);
  EXPECT_THAT(d.placements[0].worker_ids, ElementsAre("w-1"));
  EXPECT_THAT(d.placements[1].worker_ids, ElementsAre("w-2"));
  ASSERT_EQ(d.waiting.size(), 1u);
  EXPECT_THAT(d.waiting[0].reason, HasSubstr("2 idle cuda workers; 1 idle"));  // from the count

  // Nothing fits: nobody is listed, and the reasons still count.
  asked.clear();
  fleet.idle_count_by_device = {{"cpu", 0}, {"cuda", 1}};
  d = PlaceGangs(Ptrs(jobs), fleet);
  EXPECT_TRUE(asked.empty());
  EXPECT_TRUE(d.placements.empty());
  ASSERT_EQ(d.waiting.size(), 3u);
  EXPECT_THAT(d.waiting[1].reason, HasSubstr("1 idle cpu workers; 0 idle"));
}

TEST(SchedulerTest, NeverStartsAPartialGang) {
  std::vector<v1::Job> jobs = {Queued("j-1", 3, 0, 10)};
  std::vector<v1::Worker> workers = {Idle("w-1"), Idle("w-2")};
  SchedulingDecision d = PlaceGangs(Ptrs(jobs), Ptrs(workers), {{"cpu", 3}});
  EXPECT_TRUE(d.placements.empty());
  ASSERT_EQ(d.waiting.size(), 1u);
  EXPECT_THAT(d.waiting[0].reason, HasSubstr("3 idle cpu workers; 2 idle"));
}

TEST(SchedulerTest, HigherPriorityFirstThenFifo) {
  std::vector<v1::Job> jobs = {Queued("j-1", 1, 0, 10), Queued("j-2", 1, 5, 20),
                               Queued("j-3", 1, 0, 5)};
  std::vector<v1::Worker> workers = {Idle("w-1"), Idle("w-2")};
  SchedulingDecision d = PlaceGangs(Ptrs(jobs), Ptrs(workers), {{"cpu", 2}});
  ASSERT_EQ(d.placements.size(), 2u);
  EXPECT_EQ(d.placements[0].job_id, "j-2");  // priority 5
  EXPECT_EQ(d.placements[1].job_id, "j-3");  // queued before j-1
}

TEST(SchedulerTest, ABlockedGangHoldsBackLaterJobsOfItsDevice) {
  // j-1 needs 2 workers, only 1 is idle (the other is busy): j-2 must not
  // take the idle one, or j-1 could starve.
  std::vector<v1::Job> jobs = {Queued("j-1", 2, 0, 1), Queued("j-2", 1, 0, 2),
                               Queued("j-3", 1, 0, 3, "cuda")};
  std::vector<v1::Worker> workers = {Idle("w-1"), Idle("g-1", "cuda")};
  SchedulingDecision d = PlaceGangs(Ptrs(jobs), Ptrs(workers), {{"cpu", 2}, {"cuda", 1}});
  ASSERT_EQ(d.placements.size(), 1u);
  EXPECT_EQ(d.placements[0].job_id, "j-3");  // another device is not blocked
  EXPECT_THAT(d.placements[0].worker_ids, ElementsAre("g-1"));
}

TEST(SchedulerTest, AGangLargerThanTheClusterDoesNotBlockOthers) {
  std::vector<v1::Job> jobs = {Queued("j-1", 8, 0, 1), Queued("j-2", 1, 0, 2)};
  std::vector<v1::Worker> workers = {Idle("w-1")};
  SchedulingDecision d = PlaceGangs(Ptrs(jobs), Ptrs(workers), {{"cpu", 1}});
  ASSERT_EQ(d.placements.size(), 1u);
  EXPECT_EQ(d.placements[0].job_id, "j-2");
  ASSERT_EQ(d.waiting.size(), 1u);
  EXPECT_THAT(d.waiting[0].reason, HasSubstr("waiting for 8 cpu workers; 1 registered"));
}

// Found by reading the code: a failing worker (its collective port taken,
// say) was picked again for every restart, gangs going to idle workers in
// registration order.
TEST(SchedulerTest, AWorkerAnEarlierAttemptFailedOnGoesLast) {
  std::vector<v1::Job> jobs = {Queued("j-1", 2, 0, 10), Queued("j-2", 1, 0, 20)};
  jobs[0].add_avoided_workers("w-1");
  std::vector<v1::Worker> workers = {Idle("w-1"), Idle("w-2"), Idle("w-3")};
  SchedulingDecision d = PlaceGangs(Ptrs(jobs), Ptrs(workers), {{"cpu", 3}});
  ASSERT_EQ(d.placements.size(), 2u);
  EXPECT_THAT(d.placements[0].worker_ids, ElementsAre("w-2", "w-3"));
  EXPECT_THAT(d.placements[1].worker_ids, ElementsAre("w-1"));  // fine for another job

  // With no other idle worker, the avoided one is used rather than waiting.
  std::vector<v1::Worker> two = {Idle("w-1"), Idle("w-2")};
  SchedulingDecision only = PlaceGangs(Ptrs(std::vector<v1::Job>{jobs[0]}), Ptrs(two),
                                       {{"cpu", 2}});
  ASSERT_EQ(only.placements.size(), 1u);
  EXPECT_THAT(only.placements[0].worker_ids, ElementsAre("w-2", "w-1"));
}

TEST(SchedulerTest, UnhealthyWorkersGoAfterAvoidedOnesAndAreUsedOnlyWhenNeeded) {
  std::vector<v1::Job> jobs = {Queued("j-1", 2, 0, 10)};
  jobs[0].add_avoided_workers("w-3");
  std::vector<v1::Worker> workers = {Idle("w-1"), Idle("w-2"), Idle("w-3"), Idle("w-4")};
  workers[0].set_unhealthy(true);
  workers[1].set_unhealthy(true);
  SchedulingDecision d = PlaceGangs(Ptrs(jobs), Ptrs(workers), {{"cpu", 4}});
  ASSERT_EQ(d.placements.size(), 1u);
  EXPECT_THAT(d.placements[0].worker_ids, ElementsAre("w-4", "w-3"));

  std::vector<v1::Worker> sick = {Idle("w-1"), Idle("w-2")};
  sick[0].set_unhealthy(true);
  SchedulingDecision only = PlaceGangs(Ptrs(std::vector<v1::Job>{Queued("j-2", 2, 0, 10)}),
                                       Ptrs(sick), {{"cpu", 2}});
  ASSERT_EQ(only.placements.size(), 1u);
  EXPECT_THAT(only.placements[0].worker_ids, ElementsAre("w-2", "w-1"));
}

}  // namespace
}  // namespace simclr::coordinator
