#include "coordinator/coordinator.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/testing/fake_clock.h"
#include "common/version.h"
#include "coordinator/testing/in_memory_job_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simclr::coordinator {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

v1::JobSpec Spec(const std::string& name, const std::string& kind, int world_size = 1,
                 const std::string& parent = "") {
  v1::JobSpec spec;
  spec.set_name(name);
  spec.set_kind(kind);
  spec.set_world_size(world_size);
  if (kind == "distill") {
    spec.set_teacher(parent);
  } else {
    spec.set_parent(parent);
  }
  if (kind == "pretrain") spec.mutable_data()->set_dataset("fashion-mnist");
  spec.mutable_train()->set_batch_size(64);
  return spec;
}

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override { Restart(); }

  // A new Coordinator over the same store, as after a crash.
  void Restart() {
    CoordinatorOptions options;
    options.artifact_root = artifact_root_;
    options.retention = retention_;
    options.registry.heartbeat_interval = absl::Seconds(2);
    options.registry.missed_heartbeats = 3;
    coordinator_.reset();
    auto c = Coordinator::Create(options, &store_, &clock_);
    ASSERT_TRUE(c.ok()) << c.status();
    coordinator_ = *std::move(c);
  }

  // `d` passes while the coordinator runs (its ticker every half interval).
  void RunFor(absl::Duration d) {
    for (absl::Duration step = absl::Seconds(1); d > absl::ZeroDuration(); d -= step) {
      clock_.Advance(std::min(step, d));
      ASSERT_TRUE(coordinator_->Tick().ok());
    }
  }

  std::string AddWorker(int port) {
    v1::RegisterWorkerRequest r;
    r.set_protocol_version(kWorkerProtocolVersion);
    r.set_device_kind("cpu");
    r.set_collective_address("127.0.0.1:" + std::to_string(port));
    auto response = coordinator_->RegisterWorker(r);
    EXPECT_TRUE(response.ok()) << response.status();
    return response->worker_id();
  }

  v1::HeartbeatResponse Beat(const std::string& worker, const std::vector<std::string>& running = {}) {
    v1::HeartbeatRequest r;
    r.set_worker_id(worker);
    for (const std::string& t : running) r.add_running_task_ids(t);
    auto response = coordinator_->Heartbeat(r);
    EXPECT_TRUE(response.ok()) << response.status();
    return *response;
  }

  absl::Status Complete(const std::string& worker, const std::string& task, bool success,
                        const std::string& checkpoint = "", const std::string& reason = "") {
    v1::CompleteTaskRequest r;
    r.set_worker_id(worker);
    r.set_task_id(task);
    r.set_success(success);
    r.set_checkpoint(checkpoint);
    r.set_reason(reason);
    return coordinator_->CompleteTask(r);
  }

  v1::Job Get(const std::string& id) {
    auto job = coordinator_->GetJob(id);
    EXPECT_TRUE(job.ok()) << job.status();
    return *job;
  }

  std::vector<std::string> Submit(const std::vector<v1::JobSpec>& specs) {
    auto ids = coordinator_->SubmitJobs(specs);
    EXPECT_TRUE(ids.ok()) << ids.status();
    return ids.ok() ? *ids : std::vector<std::string>{};
  }

  FakeClock clock_;
  InMemoryJobStore store_;
  std::string artifact_root_ = "/artifacts";
  absl::Duration retention_ = absl::ZeroDuration();
  std::unique_ptr<Coordinator> coordinator_;
};

TEST_F(CoordinatorTest, RejectsTheWholeFileWhenOneSpecIsInvalid) {
  v1::JobSpec bad = Spec("ft", "finetune", 0, "pre");
  auto ids = coordinator_->SubmitJobs({Spec("pre", "pretrain"), bad});
  ASSERT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ids.status().message()), HasSubstr("spec 2 (ft): world_size: got 0"));
  EXPECT_EQ(store_.puts(), 0);
  EXPECT_THAT(coordinator_->ListJobs({}), IsEmpty());
}

TEST_F(CoordinatorTest, RejectsDuplicateNamesInTheFileAndAmongLiveJobs) {
  auto dup = coordinator_->SubmitJobs({Spec("a", "pretrain"), Spec("a", "pretrain")});
  EXPECT_THAT(std::string(dup.status().message()), HasSubstr("spec 2 (a): name: \"a\" is used by spec 1"));
  Submit({Spec("a", "pretrain")});
  auto live = coordinator_->SubmitJobs({Spec("a", "pretrain")});
  EXPECT_EQ(live.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(live.status().message()), HasSubstr("already used by live job j-1"));
}

TEST_F(CoordinatorTest, RejectsAMissingParentAndACycle) {
  auto missing = coordinator_->SubmitJobs({Spec("ft", "finetune", 1, "nope")});
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("parent: \"nope\" is neither a job nor a spec in this request"));
  auto cycle = coordinator_->SubmitJobs(
      {Spec("x", "finetune", 1, "y"), Spec("y", "linear_eval", 1, "x")});
  ASSERT_EQ(cycle.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(cycle.status().message()), HasSubstr("cycle x -> y -> x"));
  EXPECT_EQ(store_.puts(), 0);
}

TEST_F(CoordinatorTest, NothingIsAcknowledgedWhenTheStoreFails) {
  store_.set_fail_writes(true);
  auto ids = coordinator_->SubmitJobs({Spec("a", "pretrain")});
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(coordinator_->ListJobs({}), IsEmpty());
  store_.set_fail_writes(false);
  EXPECT_THAT(Submit({Spec("a", "pretrain")}), ElementsAre("j-1"));  // the id was not burnt
}

TEST_F(CoordinatorTest, StartsAGangOnlyWhenEveryRankHasAWorker) {
  const std::string id = Submit({Spec("pre", "pretrain", 2)})[0];
  EXPECT_THAT(Get(id).reason(), HasSubstr("waiting for 2 cpu workers; 0 registered"));
  const std::string w1 = AddWorker(7001);
  EXPECT_EQ(Get(id).state(), v1::QUEUED);
  // A registration that cannot start anything leaves the reason's count to
  // the ticker (NOTE [scheduling cost]).
  ASSERT_TRUE(coordinator_->Tick().ok());
  EXPECT_THAT(Get(id).reason(), HasSubstr("waiting for 2 cpu workers; 1 registered"));
  const std::string w2 = AddWorker(7002);
  v1::Job job = Get(id);
  EXPECT_EQ(job.state(), v1::RUNNING);
  EXPECT_EQ(job.attempts(), 1);
  EXPECT_THAT(job.workers(), ElementsAre(w1, w2));

  v1::HeartbeatResponse r1 = Beat(w1);
  v1::HeartbeatResponse r2 = Beat(w2);
  ASSERT_EQ(r1.assignments_size(), 1);
  ASSERT_EQ(r2.assignments_size(), 1);
  EXPECT_EQ(r1.assignments(0).rank(), 0);
  EXPECT_EQ(r2.assignments(0).rank(), 1);
  EXPECT_EQ(r2.assignments(0).world_size(), 2);
  EXPECT_EQ(r2.assignments(0).rendezvous_address(), "127.0.0.1:7001");
  EXPECT_EQ(r1.assignments(0).task_id(), id + ".1");
  EXPECT_EQ(r1.assignments(0).artifact_dir(), "/artifacts/" + id);
  // Resent until acknowledged, then not.
  EXPECT_EQ(Beat(w1).assignments_size(), 1);
  EXPECT_EQ(Beat(w1, {id + ".1"}).assignments_size(), 0);
}

TEST_F(CoordinatorTest, PipelineRunsInOrderAndChildrenGetTheirParentsCheckpoint) {
  std::vector<std::string> ids = Submit({Spec("pre", "pretrain"), Spec("ft", "finetune", 1, "pre"),
                                         Spec("kd", "distill", 1, "ft")});
  EXPECT_EQ(Get(ids[1]).state(), v1::PENDING);
  const std::string w = AddWorker(7001);
  ASSERT_EQ(Get(ids[0]).state(), v1::RUNNING);
  ASSERT_TRUE(Complete(w, ids[0] + ".1", true, "/artifacts/j-1/final.ckpt").ok());
  EXPECT_EQ(Get(ids[0]).state(), v1::SUCCEEDED);
  EXPECT_EQ(Get(ids[0]).checkpoint(), "/artifacts/j-1/final.ckpt");

  // The finetune job starts on the freed worker with the parent's checkpoint.
  ASSERT_EQ(Get(ids[1]).state(), v1::RUNNING);
  v1::HeartbeatResponse r = Beat(w);
  ASSERT_EQ(r.assignments_size(), 1);
  EXPECT_EQ(r.assignments(0).parent_checkpoint(), "/artifacts/j-1/final.ckpt");
  EXPECT_EQ(r.assignments(0).spec().data().dataset(), "fashion-mnist");  // inherited
  ASSERT_TRUE(Complete(w, ids[1] + ".1", true, "/artifacts/j-2/final.ckpt").ok());

  r = Beat(w);
  ASSERT_EQ(r.assignments_size(), 1);
  EXPECT_EQ(r.assignments(0).teacher_checkpoint(), "/artifacts/j-2/final.ckpt");
  EXPECT_EQ(r.assignments(0).teacher_model().depth(), 50);
}

TEST_F(CoordinatorTest, AnExpiredWorkerFailsItsJobAndThePendingChildren) {
  v1::JobSpec pre = Spec("pre", "pretrain", 2);
  pre.set_max_restarts(0);
  std::vector<std::string> ids = Submit({pre, Spec("ft", "finetune", 1, "pre")});
  const std::string w1 = AddWorker(7001);
  const std::string w2 = AddWorker(7002);
  ASSERT_EQ(Get(ids[0]).state(), v1::RUNNING);
  RunFor(absl::Seconds(4));
  Beat(w1, {ids[0] + ".1"});
  RunFor(absl::Seconds(3));  // w2 silent for 7 s > 6 s
  v1::Job job = Get(ids[0]);
  EXPECT_EQ(job.state(), v1::FAILED);
  EXPECT_EQ(job.reason(), "worker " + w2 + " lost");
  EXPECT_EQ(Get(ids[1]).state(), v1::FAILED);
  EXPECT_THAT(Get(ids[1]).reason(), HasSubstr("parent \"pre\" (j-1) FAILED: worker w-2 lost"));
  // The surviving rank is told to stop.
  EXPECT_THAT(Beat(w1, {ids[0] + ".1"}).cancel_task_ids(), ElementsAre(ids[0] + ".1"));
}

TEST_F(CoordinatorTest, AFailedAttemptRestartsTheGangFromTheLatestCheckpoint) {
  v1::JobSpec pre = Spec("pre", "pretrain", 2);
  pre.set_max_restarts(1);
  const std::string id = Submit({pre})[0];
  const std::string w1 = AddWorker(7001);
  const std::string w2 = AddWorker(7002);
  v1::ReportProgressRequest progress;
  progress.set_worker_id(w1);
  progress.set_task_id(id + ".1");
  progress.mutable_progress()->set_step(4);
  progress.set_checkpoint("/artifacts/j-1/ckpt-4");
  ASSERT_TRUE(coordinator_->ReportProgress(progress).ok());

  ASSERT_TRUE(Complete(w2, id + ".1", false, "", "NaN loss").ok());
  v1::Job job = Get(id);
  EXPECT_EQ(job.state(), v1::QUEUED);
  EXPECT_THAT(job.reason(), HasSubstr("attempt 1 failed: rank 1 on worker w-2 failed: NaN loss"));
  EXPECT_THAT(job.reason(), HasSubstr("restarting from /artifacts/j-1/ckpt-4"));
  // w1 still runs the old attempt, so the gang cannot start yet; it is told to stop.
  EXPECT_THAT(Beat(w1, {id + ".1"}).cancel_task_ids(), ElementsAre(id + ".1"));
  ASSERT_TRUE(Complete(w1, id + ".1", false, "", "cancelled").ok());
  job = Get(id);
  ASSERT_EQ(job.state(), v1::RUNNING);
  EXPECT_EQ(job.attempts(), 2);
  v1::HeartbeatResponse r = Beat(w1);
  ASSERT_EQ(r.assignments_size(), 1);
  EXPECT_EQ(r.assignments(0).task_id(), id + ".2");
  EXPECT_EQ(r.assignments(0).resume_checkpoint(), "/artifacts/j-1/ckpt-4");
  EXPECT_EQ(r.assignments(0).rendezvous_prefix(), id + ".2");
  // A second failure exhausts max_restarts.
  ASSERT_TRUE(Complete(w1, id + ".2", false, "", "boom").ok());
  EXPECT_EQ(Get(id).state(), v1::FAILED);
  EXPECT_THAT(Get(id).reason(), HasSubstr("boom (after 1 of 1 restarts)"));
}

TEST_F(CoordinatorTest, CancelStopsTheGangWithinOneHeartbeat) {
  const std::string id = Submit({Spec("pre", "pretrain", 1)})[0];
  const std::string w = AddWorker(7001);
  Beat(w, {id + ".1"});
  auto cancelled = coordinator_->CancelJob("pre");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state(), v1::CANCELLED);
  EXPECT_THAT(Beat(w, {id + ".1"}).cancel_task_ids(), ElementsAre(id + ".1"));
  v1::ReportProgressRequest progress;
  progress.set_worker_id(w);
  progress.set_task_id(id + ".1");
  EXPECT_TRUE(coordinator_->ReportProgress(progress)->cancelled());
  EXPECT_EQ(coordinator_->ListWorkers()[0].state(), v1::BUSY);  // until it confirms
  ASSERT_TRUE(Complete(w, id + ".1", false, "", "cancelled").ok());
  EXPECT_EQ(coordinator_->ListWorkers()[0].state(), v1::IDLE);
  EXPECT_EQ(Get(id).state(), v1::CANCELLED);
  EXPECT_EQ(Get(id).reason(), "cancelled by user");
}

// NOTE [reconciliation]: a running job waits one lease for its ranks; one
// that does not come back requeues the job, spending no restart.
TEST_F(CoordinatorTest, ARestartRecoversEveryJobAndRequeuesAGangThatDoesNotComeBack) {
  std::vector<std::string> ids = Submit({Spec("pre", "pretrain"), Spec("ft", "finetune", 1, "pre"),
                                         Spec("other", "pretrain", 4)});
  const std::string w = AddWorker(7001);
  ASSERT_EQ(Get(ids[0]).state(), v1::RUNNING);
  Restart();
  EXPECT_EQ(Get(ids[0]).state(), v1::RUNNING);  // waiting for its rank
  EXPECT_EQ(Get(ids[1]).state(), v1::PENDING);
  EXPECT_EQ(Get(ids[2]).state(), v1::QUEUED);
  // The old worker id is unknown now: it must register again.
  EXPECT_TRUE(Beat(w).reregister());
  RunFor(absl::Seconds(7));  // a lease is 6 s
  const v1::Job job = Get(ids[0]);
  EXPECT_EQ(job.state(), v1::QUEUED);
  EXPECT_EQ(job.restarts(), 0);
  EXPECT_THAT(job.reason(), HasSubstr("the coordinator restarted, and rank(s) 0 did not come back"));
  // Ids continue after the recovered ones.
  EXPECT_THAT(Submit({Spec("later", "pretrain")}), ElementsAre("j-4"));
}

// Reported: a coordinator restarted on a loaded machine requeued a gang whose
// ranks were on their way back. Its lease for them runs, as every lease does,
// from when it can hear workers: a slow start (or a stall) moves it.
TEST_F(CoordinatorTest, ARestartThatTakesLongToServeStillWaitsALeaseForItsGang) {
  const std::string id = Submit({Spec("pre", "pretrain")})[0];
  AddWorker(7001);
  ASSERT_EQ(Get(id).state(), v1::RUNNING);
  Restart();
  clock_.Advance(absl::Seconds(10));  // recovered, but not ticking yet: no worker heard
  // A registration before the first tick does not end the wait either.
  AddWorker(7002);
  RunFor(absl::Seconds(5));  // less than a lease (6 s) since it began to hear
  ASSERT_EQ(Get(id).state(), v1::RUNNING);
  v1::RegisterWorkerRequest back;
  back.set_protocol_version(kWorkerProtocolVersion);
  back.set_collective_address("127.0.0.1:7001");
  back.set_running_task_id(id + ".1");
  back.set_running_rank(0);
  ASSERT_TRUE(coordinator_->RegisterWorker(back).ok());
  RunFor(absl::Seconds(1));
  const v1::Job job = Get(id);
  EXPECT_EQ(job.state(), v1::RUNNING);
  EXPECT_EQ(job.attempts(), 1);
}

// NOTE [commits outside the lock]: a commit stuck on a slow disk delays other
// mutations, but heartbeats and reads (what a metrics scrape does) answer.
TEST_F(CoordinatorTest, HeartbeatsAndReadsDoNotWaitForACommit) {
  const std::string w = AddWorker(7001);
  absl::Notification in_put;
  absl::Notification disk;
  store_.set_put_hook([&] {
    if (!in_put.HasBeenNotified()) in_put.Notify();
    disk.WaitForNotification();
  });
  std::thread submit([&] { Submit({Spec("slow", "pretrain")}); });
  ASSERT_TRUE(in_put.WaitForNotificationWithTimeout(absl::Seconds(10)));
  absl::Notification answered;
  std::thread others([&] {
    Beat(w);
    coordinator_->ListJobs({});
    coordinator_->ListWorkers();
    answered.Notify();
  });
  EXPECT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(5)));
  disk.Notify();
  submit.join();
  others.join();
  store_.set_put_hook(nullptr);
  EXPECT_EQ(Get("slow").state(), v1::RUNNING);
}

// A named worker that registers again while the commit placing its old
// incarnation in a gang is in flight (the store writes outside the lock, NOTE
// [commits outside the lock]) waits for the writer's turn: the old
// incarnation's attempt then fails and a new one starts, instead of the new
// incarnation silently inheriting a placement made for the old one (a
// registration that skipped the writer's turn did that).
TEST_F(CoordinatorTest, ARegistrationReplacingAWorkerBeingPlacedWaitsForThePlacement) {
  v1::RegisterWorkerRequest r;
  r.set_protocol_version(kWorkerProtocolVersion);
  r.set_name("pod-a");
  r.set_collective_address("127.0.0.1:7001");
  ASSERT_TRUE(coordinator_->RegisterWorker(r).ok());
  absl::Notification placing;
  absl::Notification disk;
  int puts = 0;
  store_.set_put_hook([&] {
    if (++puts != 2) return;  // the submission's commit, then the placement's
    placing.Notify();
    disk.WaitForNotification();
  });
  std::thread submit([&] { Submit({Spec("solo", "pretrain")}); });
  ASSERT_TRUE(placing.WaitForNotificationWithTimeout(absl::Seconds(10)));
  absl::Notification registered;
  std::thread restart([&] {
    r.set_collective_address("127.0.0.1:7002");  // the restarted incarnation
    EXPECT_TRUE(coordinator_->RegisterWorker(r).ok());
    registered.Notify();
  });
  // It must not complete while the placement is being stored.
  EXPECT_FALSE(registered.WaitForNotificationWithTimeout(absl::Milliseconds(300)));
  disk.Notify();
  submit.join();
  restart.join();
  store_.set_put_hook(nullptr);
  const v1::Job solo = Get("solo");
  EXPECT_EQ(solo.attempts(), 2);  // the old incarnation's attempt failed, a new one started
  EXPECT_EQ(solo.state(), v1::RUNNING);
}

// Seen in the chaos suite: after a restart the coordinator handed out "w-1"
// again, and the old w-1's heartbeats passed as the new one's, so the old
// worker never registered again. Every call names the coordinator
// incarnation its worker registered with; another incarnation's is refused.
TEST_F(CoordinatorTest, ACallFromARegistrationWithAnEarlierCoordinatorIsNotTakenForAnother) {
  v1::RegisterWorkerRequest r;
  r.set_protocol_version(kWorkerProtocolVersion);
  r.set_collective_address("127.0.0.1:7001");
  const v1::RegisterWorkerResponse old = *coordinator_->RegisterWorker(r);
  ASSERT_NE(old.coordinator_incarnation(), 0u);
  Restart();
  r.set_collective_address("127.0.0.1:7002");
  const v1::RegisterWorkerResponse other = *coordinator_->RegisterWorker(r);
  ASSERT_EQ(other.worker_id(), old.worker_id());  // the same id, handed out again
  EXPECT_NE(other.coordinator_incarnation(), old.coordinator_incarnation());

  v1::HeartbeatRequest beat;
  beat.set_worker_id(old.worker_id());
  beat.set_coordinator_incarnation(old.coordinator_incarnation());
  EXPECT_TRUE(coordinator_->Heartbeat(beat)->reregister());
  beat.set_coordinator_incarnation(other.coordinator_incarnation());
  EXPECT_FALSE(coordinator_->Heartbeat(beat)->reregister());

  v1::DeregisterWorkerRequest leave;
  leave.set_worker_id(old.worker_id());
  leave.set_coordinator_incarnation(old.coordinator_incarnation());
  ASSERT_TRUE(coordinator_->DeregisterWorker(leave).ok());
  EXPECT_EQ(coordinator_->ListWorkers()[0].state(), v1::IDLE);  // the other one stays

  v1::CompleteTaskRequest late;
  late.set_worker_id(old.worker_id());
  late.set_task_id("j-1.1");
  late.set_coordinator_incarnation(old.coordinator_incarnation());
  EXPECT_EQ(coordinator_->CompleteTask(late).code(), absl::StatusCode::kUnavailable);
}

// NOTE [reconciliation]: both ranks register again saying what they run;
// the attempt continues under their new ids, which are not the old ones.
TEST_F(CoordinatorTest, AGangWhoseRanksComeBackAfterARestartContinues) {
  const std::string id = Submit({Spec("pre", "pretrain", 2)})[0];
  const std::string old0 = AddWorker(7001);
  const std::string old1 = AddWorker(7002);
  ASSERT_EQ(Get(id).state(), v1::RUNNING);
  Restart();
  // A report that arrives before its worker registered again is neither
  // taken nor refused.
  v1::ReportProgressRequest early;
  early.set_worker_id(old0);
  early.set_task_id(id + ".1");
  early.set_checkpoint("/a/j-1/attempt-1/ckpt-6.simclr");
  absl::StatusOr<v1::ReportProgressResponse> answer = coordinator_->ReportProgress(early);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_FALSE(answer->cancelled());
  EXPECT_EQ(Get(id).checkpoint(), "");

  auto come_back = [&](int port, int rank) {
    v1::RegisterWorkerRequest r;
    r.set_protocol_version(kWorkerProtocolVersion);
    r.set_collective_address("127.0.0.1:" + std::to_string(port));
    r.set_running_task_id(id + ".1");
    r.set_running_rank(rank);
    auto response = coordinator_->RegisterWorker(r);
    EXPECT_TRUE(response.ok()) << response.status();
    return response->worker_id();
  };
  const std::string new1 = come_back(7002, 1);
  const std::string new0 = come_back(7001, 0);
  EXPECT_NE(new0, old0);
  EXPECT_NE(new0, old1);
  EXPECT_NE(new1, old0);
  v1::Job job = Get(id);
  EXPECT_EQ(job.state(), v1::RUNNING);
  EXPECT_EQ(job.attempts(), 1);
  EXPECT_THAT(job.workers(), ElementsAre(new0, new1));
  EXPECT_TRUE(Beat(new1, {id + ".1"}).cancel_task_ids().empty());
  RunFor(absl::Seconds(1));
  early.set_worker_id(new0);
  EXPECT_FALSE(coordinator_->ReportProgress(early)->cancelled());
  EXPECT_EQ(Get(id).checkpoint(), "/a/j-1/attempt-1/ckpt-6.simclr");
  ASSERT_TRUE(Complete(new1, id + ".1", true).ok());
  ASSERT_TRUE(Complete(new0, id + ".1", true, "/a/j-1/attempt-1/ckpt-9.simclr").ok());
  job = Get(id);
  EXPECT_EQ(job.state(), v1::SUCCEEDED);
  EXPECT_EQ(job.attempts(), 1);
  bool noted = false;
  const std::vector<v1::JobEvent> events = coordinator_->ListJobEvents(id).value();
  for (const v1::JobEvent& e : events) {
    noted |= e.message().find("came back after the coordinator restarted") != std::string::npos;
  }
  EXPECT_TRUE(noted);
}

TEST_F(CoordinatorTest, AWorkerThatDroppedItsTaskFailsTheAttempt) {
  const std::string id = Submit({Spec("pre", "pretrain")})[0];
  const std::string w = AddWorker(7001);
  Beat(w, {id + ".1"});  // acknowledged
  Beat(w, {});           // ... and gone without a CompleteTask
  v1::Job job = Get(id);
  EXPECT_EQ(job.state(), v1::RUNNING);  // restarted at once on the freed worker
  EXPECT_EQ(job.attempts(), 2);
  EXPECT_THAT(job.reason(), IsEmpty());
  EXPECT_EQ(Beat(w).assignments(0).task_id(), id + ".2");
}

TEST_F(CoordinatorTest, AnAssignmentOfAnEndedAttemptIsWithdrawn) {
  const std::string id = Submit({Spec("pre", "pretrain", 2)})[0];
  const std::string w1 = AddWorker(7001);
  const std::string w2 = AddWorker(7002);
  ASSERT_EQ(Get(id).state(), v1::RUNNING);
  ASSERT_TRUE(coordinator_->CancelJob(id).ok());
  // w1 never picked its rank up: it gets nothing and is free again.
  EXPECT_EQ(Beat(w1).assignments_size(), 0);
  EXPECT_EQ(coordinator_->ListWorkers()[0].state(), v1::IDLE);
}

TEST_F(CoordinatorTest, ProgressFromRankZeroIsVisibleToWatchers) {
  const std::string id = Submit({Spec("pre", "pretrain")})[0];
  const std::string w = AddWorker(7001);
  auto before = coordinator_->WaitForChange(id, 0, absl::ZeroDuration());
  ASSERT_TRUE(before.ok());
  v1::ReportProgressRequest progress;
  progress.set_worker_id(w);
  progress.set_task_id(id + ".1");
  progress.mutable_progress()->set_step(3);
  progress.mutable_progress()->set_total_steps(10);
  (*progress.mutable_metrics())["loss"] = 4.5;
  ASSERT_FALSE(coordinator_->ReportProgress(progress)->cancelled());
  auto after = coordinator_->WaitForChange(id, before->version, absl::ZeroDuration());
  ASSERT_TRUE(after.ok());
  EXPECT_GT(after->version, before->version);
  EXPECT_EQ(after->job.progress().step(), 3);
  EXPECT_DOUBLE_EQ(after->job.metrics().at("loss"), 4.5);
}

TEST_F(CoordinatorTest, WhatAWorkerReportsIsBoundedBeforeItIsStored) {
  v1::JobSpec spec = Spec("pre", "pretrain");
  spec.set_max_restarts(0);
  const std::string id = Submit({spec})[0];
  const std::string w = AddWorker(7001);
  Beat(w);
  v1::ReportProgressRequest progress;
  progress.set_worker_id(w);
  progress.set_task_id(id + ".1");
  for (int i = 0; i < 1000; ++i) (*progress.mutable_metrics())["m" + std::to_string(i)] = i;
  (*progress.mutable_metrics())[std::string(1000, 'n')] = 1;
  ASSERT_TRUE(coordinator_->ReportProgress(progress).ok());
  EXPECT_EQ(Get(id).metrics_size(), 64);
  EXPECT_EQ(Get(id).metrics().count(std::string(1000, 'n')), 0u);

  ASSERT_TRUE(Complete(w, id + ".1", false, "", std::string(1 << 20, 'x')).ok());
  const v1::Job job = Get(id);
  EXPECT_LT(job.reason().size(), 2300u);
  EXPECT_THAT(job.reason(), HasSubstr("x [cut]"));
}

TEST_F(CoordinatorTest, NoAnswerOrRequestGrowsWithoutBound) {
  std::vector<v1::JobSpec> too_many(kMaxSpecsPerSubmit + 1, Spec("x", "pretrain"));
  auto refused = coordinator_->SubmitJobs(too_many);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("specs: got 1001, expected at most 1000"));

  v1::RegisterWorkerRequest r;
  r.set_collective_address("127.0.0.1:1");
  r.set_hostname(std::string(10000, 'h'));
  auto registered = coordinator_->RegisterWorker(r);
  EXPECT_THAT(std::string(registered.status().message()),
              HasSubstr("hostname: got 10000 characters, expected at most 255"));
  EXPECT_TRUE(coordinator_->ListWorkers().empty());

  // A list holds the newest kMaxListedJobs, oldest first.
  std::vector<std::string> ids;
  for (size_t batch = 0; ids.size() <= kMaxListedJobs; ++batch) {
    std::vector<v1::JobSpec> specs;
    for (size_t i = 0; i < kMaxSpecsPerSubmit; ++i) {
      specs.push_back(Spec("j" + std::to_string(batch * kMaxSpecsPerSubmit + i), "pretrain"));
    }
    auto submitted = coordinator_->SubmitJobs(specs);
    ASSERT_TRUE(submitted.ok()) << submitted.status();
    ids.insert(ids.end(), submitted->begin(), submitted->end());
  }
  const std::vector<v1::Job> listed = coordinator_->ListJobs({});
  ASSERT_EQ(listed.size(), kMaxListedJobs);
  EXPECT_EQ(listed.front().id(), ids[ids.size() - kMaxListedJobs]);
  EXPECT_EQ(listed.back().id(), ids.back());
}

// Reported: an error that cannot succeed on retry (a dataset path that does
// not exist) was retried max_restarts times.
TEST_F(CoordinatorTest, APermanentFailureIsNotRetried) {
  v1::JobSpec spec = Spec("pre", "pretrain");
  spec.set_max_restarts(2);
  const std::string id = Submit({spec})[0];
  const std::string w = AddWorker(7001);
  v1::CompleteTaskRequest r;
  r.set_worker_id(w);
  r.set_task_id(id + ".1");
  r.set_reason("data.path: /usr/share/datasets/nope: no such directory");
  r.set_permanent(true);
  ASSERT_TRUE(coordinator_->CompleteTask(r).ok());
  const v1::Job job = Get(id);
  EXPECT_EQ(job.state(), v1::FAILED);
  EXPECT_EQ(job.attempts(), 1);
  EXPECT_THAT(job.reason(), HasSubstr("no such directory (a retry cannot fix this: not restarted)"));
}

// Found by reading the code: a coordinator restart counted as an attempt, so a
// job with max_restarts 1 that lived through one failed on its next real fault.
TEST_F(CoordinatorTest, ACoordinatorRestartSpendsNoRestart) {
  v1::JobSpec spec = Spec("pre", "pretrain");
  spec.set_max_restarts(1);
  const std::string id = Submit({spec})[0];
  AddWorker(7001);
  ASSERT_EQ(Get(id).attempts(), 1);
  Restart();
  const std::string w = AddWorker(7002);  // registers again, running nothing
  for (int second = 0; second < 7; ++second) {  // the gang is not back within a lease
    clock_.Advance(absl::Seconds(1));
    Beat(w);
    ASSERT_TRUE(coordinator_->Tick().ok());
  }
  ASSERT_EQ(Get(id).state(), v1::RUNNING);
  ASSERT_EQ(Get(id).attempts(), 2);
  ASSERT_TRUE(Complete(w, id + ".2", false, "", "a real fault").ok());
  // Its one restart was still there: the gang is running its third attempt.
  const v1::Job job = Get(id);
  EXPECT_EQ(job.state(), v1::RUNNING) << job.reason();
  EXPECT_EQ(job.attempts(), 3);
  EXPECT_EQ(job.restarts(), 1);
}

// Found by reading the code: stale reports were refused, but nothing counted
// them, so a partitioned old gang went unseen.
TEST(CoordinatorFencingTest, AReportFromAnOldAttemptChangesNothingAndIsCounted) {
  struct CountingObserver final : CoordinatorObserver {
    void OnTransition(const v1::Job&, v1::JobState) override {}
    void OnRestart(const v1::Job&) override {}
    void OnStaleReport() override { ++stale; }
    int stale = 0;
  } observer;
  FakeClock clock;
  InMemoryJobStore store;
  auto c = Coordinator::Create(CoordinatorOptions{}, &store, &clock, &observer);
  ASSERT_TRUE(c.ok());
  Coordinator& coordinator = **c;
  v1::JobSpec spec = Spec("pre", "pretrain");
  spec.set_max_restarts(1);
  const std::string id = (*coordinator.SubmitJobs({spec}))[0];
  v1::RegisterWorkerRequest r;
  r.set_protocol_version(kWorkerProtocolVersion);
  r.set_collective_address("127.0.0.1:1");
  const std::string w = coordinator.RegisterWorker(r)->worker_id();
  v1::CompleteTaskRequest fail;
  fail.set_worker_id(w);
  fail.set_task_id(id + ".1");
  fail.set_reason("lost a peer");
  ASSERT_TRUE(coordinator.CompleteTask(fail).ok());  // attempt 2 starts
  ASSERT_EQ(coordinator.GetJob(id)->attempts(), 2);

  v1::CompleteTaskRequest stale;  // attempt 1 claims success late
  stale.set_worker_id(w);
  stale.set_task_id(id + ".1");
  stale.set_success(true);
  stale.set_checkpoint("/elsewhere/ckpt-9.simclr");
  ASSERT_TRUE(coordinator.CompleteTask(stale).ok());
  v1::ReportProgressRequest progress;
  progress.set_worker_id(w);
  progress.set_task_id(id + ".1");
  progress.set_checkpoint("/elsewhere/ckpt-10.simclr");
  EXPECT_TRUE(coordinator.ReportProgress(progress)->cancelled());
  EXPECT_EQ(observer.stale, 2);
  const v1::Job job = *coordinator.GetJob(id);
  EXPECT_EQ(job.state(), v1::RUNNING);
  EXPECT_EQ(job.checkpoint(), "");
}

TEST_F(CoordinatorTest, TheNextAttemptAvoidsTheWorkerThatFailed) {
  v1::JobSpec spec = Spec("pre", "pretrain");
  spec.set_max_restarts(1);
  const std::string id = Submit({spec})[0];
  const std::string bad = AddWorker(7001);
  const std::string good = AddWorker(7002);
  ASSERT_EQ(Get(id).workers(0), bad);  // registration order
  ASSERT_TRUE(Complete(bad, id + ".1", false, "", "collective port taken").ok());
  const v1::Job job = Get(id);
  EXPECT_EQ(job.attempts(), 2);
  EXPECT_THAT(job.workers(), ElementsAre(good));
  EXPECT_THAT(job.avoided_workers(), ElementsAre(bad));
}

// A worker of another release is refused at registration, saying which side
// to upgrade; nothing is registered.
TEST_F(CoordinatorTest, RefusesAWorkerOfAnotherProtocolVersion) {
  v1::RegisterWorkerRequest r;
  r.set_collective_address("127.0.0.1:1");  // protocol_version 0: an old worker
  auto old_worker = coordinator_->RegisterWorker(r);
  EXPECT_EQ(old_worker.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(old_worker.status().message()),
              HasSubstr("the worker speaks worker protocol 0, this coordinator 1"));
  EXPECT_THAT(std::string(old_worker.status().message()), HasSubstr("upgrade the worker"));
  r.set_protocol_version(kWorkerProtocolVersion + 1);
  EXPECT_THAT(std::string(coordinator_->RegisterWorker(r).status().message()),
              HasSubstr("upgrade the coordinator"));
  EXPECT_TRUE(coordinator_->ListWorkers().empty());
  r.set_protocol_version(kWorkerProtocolVersion);
  auto current = coordinator_->RegisterWorker(r);
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_EQ(current->protocol_version(), kWorkerProtocolVersion);
}

// Every transition is an event stored with it: the submission, each
// attempt's start (its gang, the checkpoint it resumes from) and end (the
// step reached, why), and the final state.
TEST_F(CoordinatorTest, RecordsAnEventForEveryTransitionAndAttempt) {
  v1::JobSpec spec = Spec("pre", "pretrain");
  spec.set_max_restarts(1);
  const std::string id = Submit({spec})[0];
  const std::string w1 = AddWorker(7001);
  v1::ReportProgressRequest progress;
  progress.set_worker_id(w1);
  progress.set_task_id(id + ".1");
  progress.mutable_progress()->set_step(9);
  progress.set_checkpoint("/a/j-1/attempt-1/ckpt-8.simclr");
  ASSERT_TRUE(coordinator_->ReportProgress(progress).ok());
  ASSERT_TRUE(Complete(w1, id + ".1", false, "", "trainer killed by signal 9").ok());
  ASSERT_TRUE(Complete(w1, id + ".2", true, "/a/j-1/attempt-2/ckpt-20.simclr").ok());

  absl::StatusOr<std::vector<v1::JobEvent>> events = coordinator_->ListJobEvents("pre");
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 5u);
  const std::vector<v1::JobEvent>& e = *events;
  EXPECT_EQ(e[0].from_state(), v1::JOB_STATE_UNSPECIFIED);
  EXPECT_EQ(e[0].to_state(), v1::QUEUED);
  EXPECT_EQ(e[1].to_state(), v1::RUNNING);
  EXPECT_EQ(e[1].attempt(), 1);
  EXPECT_THAT(e[1].workers(), ElementsAre(w1));
  EXPECT_EQ(e[1].checkpoint(), "");
  EXPECT_EQ(e[2].from_state(), v1::RUNNING);
  EXPECT_EQ(e[2].to_state(), v1::QUEUED);
  EXPECT_EQ(e[2].step(), 9);
  EXPECT_NE(e[2].message().find("trainer killed by signal 9"), std::string::npos);
  EXPECT_EQ(e[3].attempt(), 2);
  EXPECT_EQ(e[3].checkpoint(), "/a/j-1/attempt-1/ckpt-8.simclr");
  EXPECT_EQ(e[4].to_state(), v1::SUCCEEDED);
  for (const v1::JobEvent& event : e) EXPECT_EQ(event.job_id(), id);
  EXPECT_EQ(coordinator_->ListJobEvents("nope").status().code(), absl::StatusCode::kNotFound);
}

// NOTE [late checkpoints]: rank 1 fails first; rank 0's report of the
// checkpoint the gang had agreed on arrives after the attempt ended. The job
// waits for its next attempt, so that checkpoint is recorded (and the reason
// updated); the report still tells rank 0 to stop.
TEST_F(CoordinatorTest, ACheckpointReportedJustAfterTheAttemptEndedIsKept) {
  v1::JobSpec spec = Spec("pre", "pretrain", 2);
  spec.set_max_restarts(1);
  const std::string id = Submit({spec})[0];
  const std::string w1 = AddWorker(7001);
  const std::string w2 = AddWorker(7002);
  auto report = [&](const std::string& checkpoint) {
    v1::ReportProgressRequest r;
    r.set_worker_id(w1);
    r.set_task_id(id + ".1");
    r.set_checkpoint(checkpoint);
    return coordinator_->ReportProgress(r);
  };
  ASSERT_TRUE(report("/a/j-1/attempt-1/ckpt-8.simclr").ok());
  ASSERT_TRUE(Complete(w2, id + ".1", false, "", "a peer is gone").ok());
  ASSERT_EQ(Get(id).state(), v1::QUEUED);
  absl::StatusOr<v1::ReportProgressResponse> late = report("/a/j-1/attempt-1/ckpt-12.simclr");
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_TRUE(late->cancelled());
  EXPECT_EQ(Get(id).checkpoint(), "/a/j-1/attempt-1/ckpt-12.simclr");
  EXPECT_THAT(Get(id).reason(), HasSubstr("restarting from /a/j-1/attempt-1/ckpt-12.simclr"));
  // An older one changes nothing.
  ASSERT_TRUE(report("/a/j-1/attempt-1/ckpt-4.simclr").ok());
  EXPECT_EQ(Get(id).checkpoint(), "/a/j-1/attempt-1/ckpt-12.simclr");
}

// NOTE [graceful drain]: a worker that shuts down says so; its gang stops,
// and the restart spends nothing and blames nobody. The draining worker gets
// no new task.
TEST_F(CoordinatorTest, AGangStoppedForADrainingWorkerSpendsNoRestart) {
  v1::JobSpec spec = Spec("pre", "pretrain", 2);
  spec.set_max_restarts(0);
  const std::string id = Submit({spec})[0];
  const std::string w1 = AddWorker(7001);
  const std::string w2 = AddWorker(7002);
  v1::HeartbeatRequest draining;
  draining.set_worker_id(w2);
  draining.add_running_task_ids(id + ".1");
  draining.set_draining(true);
  ASSERT_TRUE(coordinator_->Heartbeat(draining).ok());
  // The gang voted to stop: rank 0 ends first, "cancelled" by the vote.
  ASSERT_TRUE(Complete(w1, id + ".1", false, "", "cancelled at step 7").ok());
  v1::Job job = Get(id);
  EXPECT_EQ(job.state(), v1::QUEUED);  // max_restarts 0, yet restarted
  EXPECT_EQ(job.restarts(), 0);
  EXPECT_THAT(job.reason(), HasSubstr("worker " + w2 + " is shutting down"));
  EXPECT_TRUE(job.avoided_workers().empty());
  ASSERT_TRUE(Complete(w2, id + ".1", false, "", "worker shutting down").ok());
  for (const v1::Worker& w : coordinator_->ListWorkers()) {
    EXPECT_EQ(w.consecutive_failures(), 0) << w.id();
  }
  // Two idle workers, but one is draining: the gang of two waits.
  EXPECT_EQ(Get(id).state(), v1::QUEUED);
}

// A worker whose side fails three attempts in a row (of any jobs) is
// unhealthy until it completes a task; a user's error does not count.
TEST_F(CoordinatorTest, AWorkerThatFailsThreeAttemptsInARowIsUnhealthy) {
  const std::string w = AddWorker(7001);
  auto worker = [&] {
    for (const v1::Worker& x : coordinator_->ListWorkers()) {
      if (x.id() == w) return x;
    }
    return v1::Worker();
  };
  auto once = [](const std::string& name) {
    v1::JobSpec spec = Spec(name, "pretrain");
    spec.set_max_restarts(0);
    return spec;
  };
  for (int i = 0; i < 3; ++i) {
    const std::string id = Submit({once("job-" + std::to_string(i))})[0];
    EXPECT_FALSE(worker().unhealthy()) << i;
    ASSERT_TRUE(Complete(w, id + ".1", false, "", "trainer killed by signal 11").ok());
  }
  EXPECT_EQ(worker().consecutive_failures(), 3);
  EXPECT_TRUE(worker().unhealthy());

  const std::string user_error = Submit({once("bad-path")})[0];
  v1::CompleteTaskRequest r;
  r.set_worker_id(w);
  r.set_task_id(user_error + ".1");
  r.set_reason("dataset path does not exist");
  r.set_permanent(true);
  ASSERT_TRUE(coordinator_->CompleteTask(r).ok());
  EXPECT_EQ(worker().consecutive_failures(), 3);

  const std::string good = Submit({once("good")})[0];
  ASSERT_TRUE(Complete(w, good + ".1", true, "/a/ckpt-1.simclr").ok());
  EXPECT_EQ(worker().consecutive_failures(), 0);
  EXPECT_FALSE(worker().unhealthy());
}

TEST_F(CoordinatorTest, KeepsTheSpecAsSubmittedBesideTheCompletedOne) {
  const std::vector<std::string> ids = Submit({Spec("pre", "pretrain"), Spec("ft", "finetune", 1, "pre")});
  const v1::Job ft = Get(ids[1]);
  EXPECT_TRUE(ft.spec().has_model());             // inherited from the parent
  EXPECT_FALSE(ft.submitted_spec().has_model());  // as the user wrote it
  EXPECT_EQ(ft.submitted_spec().parent(), "pre");
  // Which is why it can be submitted again (simclrctl retry).
  v1::JobSpec again = ft.submitted_spec();
  again.set_name("ft-retry-1");
  EXPECT_EQ(Submit({again}).size(), 1u);
}

TEST_F(CoordinatorTest, ListsJobsPageByPageWithStateAndLabelFilters) {
  std::vector<v1::JobSpec> specs;
  for (int i = 1; i <= 7; ++i) {
    v1::JobSpec spec = Spec("p" + std::to_string(i), "pretrain");
    (*spec.mutable_labels())["team"] = i % 2 == 0 ? "vision" : "audio";
    specs.push_back(spec);
  }
  Submit(specs);
  ASSERT_TRUE(coordinator_->CancelJob("p3").ok());

  v1::ListJobsRequest request;
  request.set_page_size(3);
  std::vector<std::string> names;
  std::vector<int> sizes;
  do {
    auto page = coordinator_->ListJobsPage(request);
    ASSERT_TRUE(page.ok()) << page.status();
    sizes.push_back(page->jobs_size());
    for (const v1::Job& job : page->jobs()) names.push_back(job.spec().name());
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  EXPECT_THAT(sizes, ElementsAre(3, 3, 1));
  EXPECT_THAT(names, ElementsAre("p1", "p2", "p3", "p4", "p5", "p6", "p7"));

  v1::ListJobsRequest filtered;
  filtered.set_label_selector("team=vision");
  filtered.add_states(v1::QUEUED);
  filtered.set_page_size(2);
  auto first = coordinator_->ListJobsPage(filtered);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->jobs_size(), 2);
  EXPECT_EQ(first->jobs(0).spec().name(), "p2");
  EXPECT_EQ(first->jobs(1).spec().name(), "p4");
  filtered.set_page_token(first->next_page_token());
  auto second = coordinator_->ListJobsPage(filtered);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->jobs_size(), 1);
  EXPECT_EQ(second->jobs(0).spec().name(), "p6");
  EXPECT_EQ(second->next_page_token(), "");

  v1::ListJobsRequest cancelled;
  cancelled.add_states(v1::CANCELLED);
  EXPECT_EQ(coordinator_->ListJobsPage(cancelled)->jobs(0).spec().name(), "p3");

  for (const auto& [field, bad] : std::vector<std::pair<std::string, v1::ListJobsRequest>>{
           {"page_size", [] { v1::ListJobsRequest r; r.set_page_size(5000); return r; }()},
           {"page_token", [] { v1::ListJobsRequest r; r.set_page_token("x"); return r; }()},
           {"label_selector", [] { v1::ListJobsRequest r; r.set_label_selector("team"); return r; }()}}) {
    auto refused = coordinator_->ListJobsPage(bad);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(std::string(refused.status().message()), HasSubstr(field + ":"));
  }
}

class CoordinatorDeleteTest : public CoordinatorTest {
 protected:
  void SetUp() override {
    artifact_root_ = ::testing::TempDir() + "/delete-artifacts";
    std::filesystem::remove_all(artifact_root_);
    CoordinatorTest::SetUp();
  }
  // Makes `id`'s artifact directory with a file in it, as a trainer would.
  std::string MakeArtifacts(const std::string& id) {
    const std::string dir = Get(id).artifact_dir();
    std::filesystem::create_directories(dir + "/attempt-1");
    std::ofstream(dir + "/attempt-1/rank-0.log") << "step 1\n";
    return dir;
  }
};

TEST_F(CoordinatorDeleteTest, DeletesAFinishedJobItsEventsAndItsArtifacts) {
  const std::string id = Submit({Spec("pre", "pretrain")})[0];
  const std::string w = AddWorker(7001);
  const std::string dir = MakeArtifacts(id);
  ASSERT_TRUE(Complete(w, id + ".1", true, dir + "/attempt-1/ckpt-1.simclr").ok());

  ASSERT_TRUE(coordinator_->DeleteJob("pre", /*cancel=*/false).ok());
  EXPECT_EQ(coordinator_->GetJob(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_THAT(*store_.LoadEvents(id), IsEmpty());
  EXPECT_THAT(*store_.LoadAll(), IsEmpty());
  EXPECT_EQ(coordinator_->WaitForChange(id, 0, absl::ZeroDuration()).status().code(),
            absl::StatusCode::kNotFound);
  // Gone after a restart too.
  Restart();
  EXPECT_EQ(coordinator_->GetJob(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(coordinator_->DeleteJob(id, false).code(), absl::StatusCode::kNotFound);
}

TEST_F(CoordinatorDeleteTest, RefusesWhileTheJobRunsItsGangStopsOrAChildNeedsIt) {
  const std::vector<std::string> ids =
      Submit({Spec("pre", "pretrain"), Spec("ft", "finetune", 1, "pre")});
  const std::string w = AddWorker(7001);
  const std::string dir = MakeArtifacts(ids[0]);
  auto running = coordinator_->DeleteJob("pre", /*cancel=*/false);
  EXPECT_EQ(running.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(running.message()), HasSubstr("it is RUNNING; cancel it first"));

  // With cancel: the job is cancelled at once, but its worker still runs it.
  auto stopping = coordinator_->DeleteJob("pre", /*cancel=*/true);
  EXPECT_EQ(stopping.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(stopping.message()), HasSubstr("still runs its rank 0"));
  EXPECT_EQ(Get(ids[0]).state(), v1::CANCELLED);
  EXPECT_TRUE(std::filesystem::exists(dir));
  ASSERT_TRUE(Complete(w, ids[0] + ".1", false, "", "cancelled").ok());
  ASSERT_TRUE(coordinator_->DeleteJob("pre", /*cancel=*/true).ok());
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_EQ(Get(ids[1]).state(), v1::FAILED);  // its parent was cancelled

  // A child that has not finished keeps its parent.
  const std::vector<std::string> more =
      Submit({Spec("pre2", "pretrain"), Spec("ft2", "finetune", 1, "pre2")});
  ASSERT_TRUE(Complete(w, more[0] + ".1", true, "/x/ckpt-1.simclr").ok());
  ASSERT_EQ(Get(more[1]).state(), v1::RUNNING);
  auto needed = coordinator_->DeleteJob("pre2", false);
  EXPECT_EQ(needed.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(needed.message()), HasSubstr("job " + more[1] + " (ft2, RUNNING) starts from it"));
}

TEST_F(CoordinatorDeleteTest, OnlyTheSubmitterOrAnAdminDeletes) {
  auto ids = coordinator_->SubmitJobs({Spec("pre", "pretrain")}, "alice");
  ASSERT_TRUE(ids.ok());
  ASSERT_TRUE(coordinator_->CancelJob("pre", "alice", false).ok());
  EXPECT_EQ(coordinator_->DeleteJob("pre", false, "bob", false).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(coordinator_->DeleteJob("pre", false, "alice", false).ok());
}

TEST_F(CoordinatorDeleteTest, RetentionDeletesOldFinishedJobsButNotWhatALiveJobNeeds) {
  retention_ = absl::Hours(24);
  Restart();
  const std::string old = Submit({Spec("old", "pretrain")})[0];
  const std::string old_dir = MakeArtifacts(old);
  ASSERT_TRUE(coordinator_->CancelJob("old").ok());
  // "kept" succeeds; its child has not finished (it runs, then waits for a
  // worker once this one's lease runs out).
  const std::vector<std::string> kept =
      Submit({Spec("kept", "pretrain"), Spec("ft", "finetune", 1, "kept")});
  const std::string w = AddWorker(7001);
  ASSERT_TRUE(Complete(w, kept[0] + ".1", true, "/x/ckpt-1.simclr").ok());
  ASSERT_EQ(Get(kept[1]).state(), v1::RUNNING);

  clock_.Advance(absl::Hours(23));
  ASSERT_TRUE(coordinator_->Tick().ok());
  EXPECT_TRUE(coordinator_->GetJob(old).ok());
  clock_.Advance(absl::Hours(2));
  ASSERT_TRUE(coordinator_->Tick().ok());
  EXPECT_EQ(coordinator_->GetJob(old).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(old_dir));
  EXPECT_FALSE(IsFinal(Get(kept[1]).state()));
  EXPECT_TRUE(coordinator_->GetJob(kept[0]).ok());  // its child needs it
}

}  // namespace
}  // namespace simclr::coordinator
