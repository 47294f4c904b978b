// The agent against a real coordinator core behind in-process gRPC services.
#include "worker/agent.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "absl/synchronization/notification.h"
#include "common/testing/fake_clock.h"
#include "common/version.h"
#include "coordinator/coordinator.h"
#include "coordinator/testing/in_memory_job_store.h"
#include "coordinator/worker_service.h"
#include "gtest/gtest.h"
#include "model/checkpoint/checkpoint_files.h"
#include "worker/coordinator_connection.h"

namespace simclr::worker {
namespace {

// Runs until released (success) or cancelled; tells the test when it started.
// With a script, runs that instead.
class BlockingRunner final : public TaskRunner {
 public:
  absl::StatusOr<TaskResult> Run(const v1::TaskAssignment& task, TaskContext& context) override {
    task_ = task;
    if (script) return script(context);
    v1::Progress progress;
    progress.set_step(1);
    progress.set_total_steps(2);
    context.Report(progress, {{"loss", 3.5}}, "/ckpt/1");
    started_.Notify();
    while (!release_.WaitForNotificationWithTimeout(absl::Milliseconds(5))) {
      if (context.cancelled()) return absl::CancelledError("stopped");
    }
    return TaskResult{"/ckpt/final", {{"top1", 0.5}}};
  }

  std::function<absl::StatusOr<TaskResult>(TaskContext&)> script;
  v1::TaskAssignment task_;
  absl::Notification started_;
  absl::Notification release_;
};

// The real connection, except that ReportProgress waits while `hold` is set
// (a coordinator too slow to answer) and fails while `away` is set (a
// coordinator that is down).
class SlowReportsConnection final : public CoordinatorConnection {
 public:
  explicit SlowReportsConnection(std::unique_ptr<CoordinatorConnection> real)
      : real_(std::move(real)) {}

  absl::StatusOr<v1::RegisterWorkerResponse> RegisterWorker(
      const v1::RegisterWorkerRequest& r) override {
    ++registrations;
    return real_->RegisterWorker(r);
  }
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& r) override {
    ++heartbeats;
    return real_->Heartbeat(r);
  }
  absl::StatusOr<v1::ReportProgressResponse> ReportProgress(
      const v1::ReportProgressRequest& r) override {
    ++reports;
    if (hold) released.WaitForNotification();
    if (away) return absl::UnavailableError("the coordinator is away");
    return real_->ReportProgress(r);
  }
  absl::Status CompleteTask(const v1::CompleteTaskRequest& r) override {
    return real_->CompleteTask(r);
  }
  absl::Status DeregisterWorker(const v1::DeregisterWorkerRequest& r) override {
    return real_->DeregisterWorker(r);
  }

  std::atomic<bool> hold{false};
  std::atomic<bool> away{false};
  std::atomic<int> registrations{0};
  std::atomic<int> heartbeats{0};
  std::atomic<int> reports{0};
  absl::Notification released;

 private:
  std::unique_ptr<CoordinatorConnection> real_;
};

// Real-time waits for what another thread does; the fake clock does not move.
template <typename Predicate>
bool Eventually(Predicate done) {
  for (int i = 0; i < 5000 && !done(); ++i) absl::SleepFor(absl::Milliseconds(1));
  return done();
}

// An agent and a coordinator (behind in-process gRPC) on one FakeClock: the
// agent's waits between heartbeats, resends and retries end only when a test
// advances the clock.
class AgentTest : public ::testing::Test {
 protected:
  const Clock* clock() { return &fake_; }

  // Advances the clock a heartbeat interval at a time until `done`: what the
  // test waits for comes with one of the agent's next heartbeats.
  template <typename Predicate>
  bool AdvanceUntil(Predicate done) {
    return Eventually([&] {
      if (done()) return true;
      fake_.Advance(absl::Milliseconds(20));
      return false;
    });
  }

  bool Started() {
    return AdvanceUntil([&] { return runner_.started_.HasBeenNotified(); });
  }

  // Lets a derived fixture change the options before the agent starts.
  virtual void Configure(coordinator::CoordinatorOptions& coordinator, AgentOptions& agent) {}

  void SetUp() override {
    coordinator::CoordinatorOptions options;
    options.registry.heartbeat_interval = absl::Milliseconds(20);
    options.progress_persist_interval = absl::ZeroDuration();
    AgentOptions agent_options;
    agent_options.registration.set_collective_address("127.0.0.1:1");
    agent_options.progress_interval = absl::ZeroDuration();
    Configure(options, agent_options);
    auto c = coordinator::Coordinator::Create(options, &store_, clock());
    ASSERT_TRUE(c.ok());
    coordinator_ = *std::move(c);
    service_ = std::make_unique<coordinator::WorkerServiceImpl>(coordinator_.get());
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    auto connection = std::make_unique<SlowReportsConnection>(MakeGrpcConnection(
        server_->InProcessChannel(grpc::ChannelArguments()), absl::Seconds(5)));
    connection_ = connection.get();
    connection_owner_ = std::move(connection);
    agent_ = std::make_unique<Agent>(agent_options, connection_, &runner_, clock());
    thread_ = std::thread([this] { run_status_ = agent_->Run(); });
    ASSERT_TRUE(agent_->WaitUntilRegistered(absl::Seconds(10)));
  }

  void TearDown() override {
    if (!connection_->released.HasBeenNotified()) connection_->released.Notify();
    agent_->Stop();
    thread_.join();
    server_->Shutdown();
  }

  std::string Submit() {
    v1::JobSpec spec;
    spec.set_name("job");
    spec.set_kind("pretrain");
    spec.mutable_data()->set_dataset("fashion-mnist");
    auto ids = coordinator_->SubmitJobs({spec});
    EXPECT_TRUE(ids.ok());
    return (*ids)[0];
  }

  // Blocks (on the coordinator's change notifications) until the job is in `state`.
  v1::Job AwaitState(const std::string& id, v1::JobState state) {
    int64_t version = 0;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      auto snap = coordinator_->WaitForChange(id, version, absl::Seconds(1));
      EXPECT_TRUE(snap.ok());
      if (snap->job.state() == state) return snap->job;
      version = snap->version;
    }
    ADD_FAILURE() << "job " << id << " never reached " << v1::JobState_Name(state);
    return v1::Job();
  }

  // Blocks until the job records `checkpoint`.
  v1::Job AwaitCheckpoint(const std::string& id, const std::string& checkpoint) {
    int64_t version = 0;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      auto snap = coordinator_->WaitForChange(id, version, absl::Seconds(1));
      EXPECT_TRUE(snap.ok());
      if (snap->job.checkpoint() == checkpoint) return snap->job;
      version = snap->version;
    }
    ADD_FAILURE() << "job " << id << " never recorded " << checkpoint;
    return v1::Job();
  }

  FakeClock fake_;
  coordinator::InMemoryJobStore store_;
  std::unique_ptr<coordinator::Coordinator> coordinator_;
  std::unique_ptr<coordinator::WorkerServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<CoordinatorConnection> connection_owner_;
  SlowReportsConnection* connection_ = nullptr;
  BlockingRunner runner_;
  std::unique_ptr<Agent> agent_;
  std::thread thread_;
  absl::Status run_status_;
};

TEST_F(AgentTest, RunsAnAssignmentAndReportsItsResult) {
  const std::string id = Submit();
  ASSERT_TRUE(Started());
  EXPECT_EQ(runner_.task_.task_id(), id + ".1");
  EXPECT_EQ(runner_.task_.world_size(), 1);
  v1::Job running = AwaitCheckpoint(id, "/ckpt/1");
  EXPECT_DOUBLE_EQ(running.metrics().at("loss"), 3.5);
  runner_.release_.Notify();
  v1::Job done = AwaitState(id, v1::SUCCEEDED);
  EXPECT_EQ(done.checkpoint(), "/ckpt/final");
  EXPECT_DOUBLE_EQ(done.metrics().at("top1"), 0.5);
}

TEST_F(AgentTest, ReportingNeverWaitsForASlowCoordinator) {
  connection_->hold = true;
  const std::string id = Submit();
  // The runner reported a checkpoint before it signalled that it started: a
  // Report that waited for the coordinator would hold it here.
  ASSERT_TRUE(Started());
  EXPECT_EQ(coordinator_->GetJob(id)->checkpoint(), "");
  connection_->released.Notify();
  EXPECT_EQ(AwaitCheckpoint(id, "/ckpt/1").metrics().at("loss"), 3.5);
  runner_.release_.Notify();
  AwaitState(id, v1::SUCCEEDED);
}

TEST_F(AgentTest, ACancelledJobStopsItsTaskAndFreesTheWorker) {
  const std::string id = Submit();
  ASSERT_TRUE(Started());
  ASSERT_TRUE(coordinator_->CancelJob(id).ok());
  // The worker hears it with its next heartbeat, and is busy until the
  // runner noticed and the agent reported.
  EXPECT_TRUE(AdvanceUntil([&] { return coordinator_->ListWorkers()[0].state() == v1::IDLE; }));
  EXPECT_EQ(coordinator_->GetJob(id)->state(), v1::CANCELLED);
}

TEST_F(AgentTest, StopReportsTheRunningTaskAndDeregisters) {
  const std::string id = Submit();
  ASSERT_TRUE(Started());
  agent_->Stop();
  thread_.join();
  thread_ = std::thread([] {});
  EXPECT_TRUE(run_status_.ok()) << run_status_;
  v1::Job job = coordinator_->GetJob(id).value();
  // NOTE [graceful drain]: the task ended and was reported while the worker
  // was still registered (draining); the job is queued for a restart
  // elsewhere that spends none of its restarts, then the worker left.
  EXPECT_EQ(job.state(), v1::QUEUED);
  EXPECT_NE(job.reason().find("worker w-1 is shutting down"), std::string::npos) << job.reason();
  EXPECT_EQ(job.attempts(), 1);
  EXPECT_EQ(job.restarts(), 0);
  EXPECT_EQ(coordinator_->ListWorkers()[0].state(), v1::DRAINED);
  EXPECT_EQ(coordinator_->ListWorkers()[0].consecutive_failures(), 0);
}

TEST_F(AgentTest, ANoteOfTheTrainerBecomesAJobEvent) {
  runner_.script = [&](TaskContext& context) -> absl::StatusOr<TaskResult> {
    v1::Progress progress;
    progress.set_step(3);
    progress.set_total_steps(8);
    context.Report(progress, {{"loss", 1.5}}, "");
    context.Note("cannot resume from ckpt-8 (torn); resumed from ckpt-4");
    return TaskResult{"/a/ckpt-8.simclr", {}};
  };
  const std::string id = Submit();
  ASSERT_TRUE(AdvanceUntil([&] { return coordinator_->GetJob(id)->state() == v1::SUCCEEDED; }));
  absl::StatusOr<std::vector<v1::JobEvent>> events = coordinator_->ListJobEvents(id);
  ASSERT_TRUE(events.ok()) << events.status();
  int notes = 0;
  for (const v1::JobEvent& e : *events) {
    if (e.from_state() != v1::RUNNING || e.to_state() != v1::RUNNING) continue;
    ++notes;
    EXPECT_EQ(e.message(), "cannot resume from ckpt-8 (torn); resumed from ckpt-4");
    EXPECT_EQ(e.step(), 3);
    EXPECT_EQ(e.attempt(), 1);
  }
  EXPECT_EQ(notes, 1);
}

TEST_F(AgentTest, HeartbeatsComeEveryIntervalOfTheClockAndNoSooner) {
  absl::SleepFor(absl::Milliseconds(100));  // real time passes, the clock does not
  const int before = connection_->heartbeats;
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(connection_->heartbeats, before);
  fake_.Advance(absl::Milliseconds(20));  // the coordinator's heartbeat interval
  EXPECT_TRUE(Eventually([&] { return connection_->heartbeats == before + 1; }));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(connection_->heartbeats, before + 1);
}

// NOTE [reconciliation]: a restarted coordinator waits one lease for its
// gangs' ranks. Told to register again, the worker does so at once, not a
// heartbeat interval later (the clock does not move here).
TEST_F(AgentTest, AWorkerTheCoordinatorForgotRegistersAgainAtOnce) {
  const std::string before = agent_->worker_id();
  const int registrations = connection_->registrations;
  v1::DeregisterWorkerRequest forget;
  forget.set_worker_id(before);
  ASSERT_TRUE(coordinator_->DeregisterWorker(forget).ok());
  const int heartbeats = connection_->heartbeats;
  fake_.Advance(absl::Milliseconds(20));  // the next heartbeat hears "register again"
  ASSERT_TRUE(Eventually([&] { return connection_->heartbeats > heartbeats; }));
  EXPECT_TRUE(Eventually([&] { return connection_->registrations == registrations + 1; }));
  EXPECT_TRUE(Eventually([&] { return !agent_->worker_id().empty(); }));
  EXPECT_NE(agent_->worker_id(), before);
}

TEST_F(AgentTest, AReportTheCoordinatorMissedIsResentAfterTheBackoff) {
  connection_->away = true;
  absl::Notification reported;
  runner_.script = [&](TaskContext& context) -> absl::StatusOr<TaskResult> {
    v1::Progress progress;
    progress.set_step(4);
    progress.set_total_steps(8);
    context.Report(progress, {}, "/a/ckpt-4.simclr");
    reported.Notify();
    while (!runner_.release_.HasBeenNotified()) absl::SleepFor(absl::Milliseconds(1));
    return TaskResult{"/a/ckpt-8.simclr", {}};
  };
  const std::string id = Submit();
  ASSERT_TRUE(AdvanceUntil([&] { return reported.HasBeenNotified(); }));
  ASSERT_TRUE(Eventually([&] { return connection_->reports == 1; }));
  connection_->away = false;
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(connection_->reports, 1);  // no resend before the backoff passed
  fake_.Advance(absl::Milliseconds(250));
  EXPECT_EQ(AwaitCheckpoint(id, "/a/ckpt-4.simclr").checkpoint(), "/a/ckpt-4.simclr");
  EXPECT_EQ(connection_->reports, 2);
  runner_.release_.Notify();
  AwaitState(id, v1::SUCCEEDED);
}

// Registration answered as by a coordinator of a release before versions
// were exchanged (no protocol_version); every other call fails.
// Counts what the agent tells its observer.
class CountingObserver final : public AgentObserver {
 public:
  void OnRegistered(const std::string& worker_id) override {
    // Slow, so that a test reading registered() right after
    // WaitUntilRegistered() fails unless the agent tells the observer first
    // (it once published the id first, and the test then read "" at times).
    absl::SleepFor(absl::Milliseconds(50));
    absl::MutexLock lock(&mu_);
    registered_ = worker_id;
  }
  void OnHeartbeat(bool answered) override {
    absl::MutexLock lock(&mu_);
    ++(answered ? answered_ : unanswered_);
  }
  void OnTaskFinished(TaskOutcome outcome) override {
    absl::MutexLock lock(&mu_);
    outcomes_.push_back(outcome);
  }
  std::string registered() {
    absl::MutexLock lock(&mu_);
    return registered_;
  }
  int answered() {
    absl::MutexLock lock(&mu_);
    return answered_;
  }
  std::vector<TaskOutcome> outcomes() {
    absl::MutexLock lock(&mu_);
    return outcomes_;
  }

 private:
  absl::Mutex mu_;
  std::string registered_;
  int answered_ = 0;
  int unanswered_ = 0;
  std::vector<TaskOutcome> outcomes_;
};

// The coordinator writes artifacts under /shared/artifacts; the worker is
// told (--artifact_dir) where that volume is mounted on it.
class ArtifactRootTest : public AgentTest {
 protected:
  void Configure(coordinator::CoordinatorOptions& coordinator, AgentOptions& agent) override {
    coordinator.artifact_root = "/shared/artifacts";
    agent.artifact_root = worker_artifact_root_;
    agent.observer = &observer_;
  }
  std::string worker_artifact_root_ = "/shared/artifacts/";
  CountingObserver observer_;
};

TEST_F(ArtifactRootTest, ATaskUnderTheWorkersArtifactRootRunsAndIsObserved) {
  EXPECT_EQ(observer_.registered(), coordinator_->ListWorkers()[0].id());
  const std::string id = Submit();
  ASSERT_TRUE(Started());
  EXPECT_GT(observer_.answered(), 0);
  runner_.release_.Notify();
  AwaitState(id, v1::SUCCEEDED);
  EXPECT_TRUE(AdvanceUntil([&] { return observer_.outcomes().size() == 1; }));
  EXPECT_EQ(observer_.outcomes()[0], TaskOutcome::kSucceeded);
}

class MismountedArtifactRootTest : public ArtifactRootTest {
 protected:
  MismountedArtifactRootTest() { worker_artifact_root_ = "/mnt/artifacts"; }
};

// A worker that would write where the coordinator cannot read (a volume
// mounted at another path) fails the task at once, permanently, saying
// which flags disagree; the trainer never starts.
TEST_F(MismountedArtifactRootTest, ATaskElsewhereFailsPermanentlyNamingBothPaths) {
  const std::string id = Submit();
  ASSERT_TRUE(AdvanceUntil([&] { return coordinator_->GetJob(id)->state() == v1::FAILED; }));
  const std::string reason = coordinator_->GetJob(id)->reason();
  EXPECT_FALSE(runner_.started_.HasBeenNotified());
  EXPECT_NE(reason.find("/shared/artifacts/" + id), std::string::npos) << reason;
  EXPECT_NE(reason.find("--artifact_dir /mnt/artifacts"), std::string::npos) << reason;
  // Permanent: the coordinator did not spend a restart on it.
  EXPECT_EQ(coordinator_->GetJob(id)->attempts(), 1);
  EXPECT_EQ(observer_.outcomes(), std::vector<TaskOutcome>{TaskOutcome::kFailed});
}

class OldCoordinator final : public CoordinatorConnection {
 public:
  absl::StatusOr<v1::RegisterWorkerResponse> RegisterWorker(
      const v1::RegisterWorkerRequest& r) override {
    sent_version = r.protocol_version();
    v1::RegisterWorkerResponse response;
    response.set_worker_id("w-1");
    return response;
  }
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest&) override {
    return absl::UnavailableError("old");
  }
  absl::StatusOr<v1::ReportProgressResponse> ReportProgress(
      const v1::ReportProgressRequest&) override {
    return absl::UnavailableError("old");
  }
  absl::Status CompleteTask(const v1::CompleteTaskRequest&) override {
    return absl::UnavailableError("old");
  }
  absl::Status DeregisterWorker(const v1::DeregisterWorkerRequest&) override {
    return absl::UnavailableError("old");
  }

  int sent_version = -1;
};

TEST(AgentVersionTest, EndsAtOnceWhenTheCoordinatorSpeaksAnotherProtocol) {
  OldCoordinator old;
  BlockingRunner runner;
  Agent agent(AgentOptions(), &old, &runner, &Clock::Real());
  const absl::Status status = agent.Run();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find("the coordinator speaks worker protocol 0"), std::string::npos)
      << status;
  EXPECT_NE(status.message().find("upgrade the coordinator"), std::string::npos) << status;
  EXPECT_EQ(old.sent_version, kWorkerProtocolVersion);
}

// NOTE [checkpoint retention] in agent.cc: the coordinator is away while the
// trainer writes checkpoints 2..6. Meanwhile step 1, which the coordinator
// recorded, is kept whatever else is pruned; the next report once it is back
// carries step 6, which is then recorded, and only then is step 1 deleted.
TEST_F(AgentTest, CheckpointsWrittenWhileTheCoordinatorIsAwayAreRecordedAndPrunedAfter) {
  const std::string dir = ::testing::TempDir() + "/agent_retention";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto checkpoint = [&](int step) {
    const std::string path = dir + "/" + model::CheckpointFileName(step);
    std::ofstream(path) << "checkpoint";
    return path;
  };
  auto progress = [](int step) {
    v1::Progress p;
    p.set_step(step);
    p.set_total_steps(10);
    return p;
  };
  std::string id;
  std::vector<std::string> kept_while_away;
  absl::Notification submitted;
  runner_.script = [&](TaskContext& context) -> absl::StatusOr<TaskResult> {
    submitted.WaitForNotification();
    context.Report(progress(1), {}, checkpoint(1));
    AwaitCheckpoint(id, dir + "/ckpt-1.simclr");
    connection_->away = true;
    const int sent = connection_->reports;
    for (int step = 2; step <= 6; ++step) context.Report(progress(step), {}, checkpoint(step));
    Eventually([&] { return connection_->reports > sent; });  // failed sends
    kept_while_away = model::ListCheckpoints(dir).value();
    connection_->away = false;
    context.Report(progress(7), {}, "");  // no checkpoint of its own
    fake_.Advance(absl::Milliseconds(250));  // past the resend backoff
    AwaitCheckpoint(id, dir + "/ckpt-6.simclr");
    return TaskResult{dir + "/ckpt-6.simclr", {}};
  };
  id = Submit();
  submitted.Notify();
  ASSERT_TRUE(AdvanceUntil([&] { return coordinator_->GetJob(id)->state() == v1::SUCCEEDED; }));
  for (int step : {1, 4, 5, 6}) {
    EXPECT_NE(std::find(kept_while_away.begin(), kept_while_away.end(),
                        dir + "/" + model::CheckpointFileName(step)),
              kept_while_away.end())
        << step;
  }
  EXPECT_EQ(model::ListCheckpoints(dir).value(),
            (std::vector<std::string>{dir + "/ckpt-4.simclr", dir + "/ckpt-5.simclr",
                                      dir + "/ckpt-6.simclr"}));
}

}  // namespace
}  // namespace simclr::worker
