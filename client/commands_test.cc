// The verbs against an in-process JobService with canned answers.
#include "client/commands.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/testing/fake_clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/simclr/v1/coordinator.grpc.pb.h"

namespace simclr::client {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1767225600;  // FakeClock's start

v1::Job MakeJob(const std::string& id, const std::string& name,
                v1::JobState state) {
  v1::Job job;
  job.set_id(id);
  job.mutable_spec()->set_name(name);
  job.mutable_spec()->set_kind("pretrain");
  job.set_state(state);
  job.mutable_created_at()->set_seconds(kNow - 30);
  return job;
}

// Canned answers; records what it was sent. Thread-safe.
class FakeJobService final : public v1::JobService::Service {
 public:
  grpc::Status SubmitJobs(grpc::ServerContext*,
                          const v1::SubmitJobsRequest* request,
                          v1::SubmitJobsResponse* response) override {
    absl::MutexLock lock(&mu_);
    submitted_.push_back(*request);
    for (const v1::JobSpec& spec : request->specs()) {
      if (spec.world_size() > 64) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "specs[0].world_size: 65 is more than the 64 "
                            "workers a gang may have");
      }
    }
    for (int i = 0; i < request->specs_size(); ++i) {
      response->add_job_ids("j-00000" + std::to_string(i + 1));
    }
    return grpc::Status::OK;
  }

  grpc::Status GetJob(grpc::ServerContext*, const v1::GetJobRequest* request,
                      v1::Job* response) override {
    for (const v1::Job& job : jobs_) {
      if (job.id() == request->job() || job.spec().name() == request->job()) {
        *response = job;
        return grpc::Status::OK;
      }
    }
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "no job with id or name \"" + request->job() + "\"");
  }

  // Pages as the coordinator does: page_token is the index to start at.
  grpc::Status ListJobs(grpc::ServerContext*, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override {
    {
      absl::MutexLock lock(&mu_);
      list_requests_.push_back(*request);
    }
    const size_t page_size = request->page_size() > 0 ? request->page_size() : 1000;
    size_t i = request->page_token().empty() ? 0 : std::stoul(request->page_token());
    for (; i < jobs_.size() && response->jobs_size() < static_cast<int>(page_size); ++i) {
      *response->add_jobs() = jobs_[i];
    }
    if (i < jobs_.size()) response->set_next_page_token(std::to_string(i));
    return grpc::Status::OK;
  }

  // Refuses the first `stopping_refusals` deletions as a gang that still
  // stops would.
  grpc::Status DeleteJob(grpc::ServerContext*, const v1::DeleteJobRequest* request,
                         v1::DeleteJobResponse*) override {
    absl::MutexLock lock(&mu_);
    deleted_.push_back(*request);
    if (stopping_refusals_ > 0) {
      --stopping_refusals_;
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "job j-000001 cannot be deleted: worker w-1 still runs its rank 0");
    }
    return grpc::Status::OK;
  }

  grpc::Status GetJobLogs(grpc::ServerContext*, const v1::GetJobLogsRequest* request,
                          grpc::ServerWriter<v1::LogChunk>* writer) override {
    if (request->job() != "fmnist-pretrain") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no");
    for (const auto& [attempt, text] : std::vector<std::pair<int, std::string>>{
             {1, "step 1\n"}, {1, "step 2\n"}, {2, "resumed at step 2\n"}}) {
      if (!request->follow() && attempt == 2) break;
      v1::LogChunk chunk;
      chunk.set_attempt(attempt);
      chunk.set_data(text);
      writer->Write(chunk);
    }
    return grpc::Status::OK;
  }

  grpc::Status GetJobMetrics(grpc::ServerContext*, const v1::GetJobMetricsRequest*,
                             v1::JobMetrics* response) override {
    v1::StepMetrics* point = response->add_steps();
    point->set_step(1);
    point->set_epoch(0.25);
    (*point->mutable_values())["loss"] = 4.5;
    return grpc::Status::OK;
  }

  grpc::Status CancelJob(grpc::ServerContext* context,
                         const v1::CancelJobRequest* request,
                         v1::Job* response) override {
    v1::GetJobRequest get;
    get.set_job(request->job());
    grpc::Status status = GetJob(context, &get, response);
    if (status.ok()) response->set_state(v1::CANCELLED);
    return status;
  }

  grpc::Status WatchJob(grpc::ServerContext*,
                        const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::Job>* writer) override {
    if (request->job() != "fmnist-pretrain") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such job");
    }
    for (const v1::Job& snapshot : watch_snapshots_) writer->Write(snapshot);
    return grpc::Status::OK;
  }

  grpc::Status ListWorkers(grpc::ServerContext*, const v1::ListWorkersRequest*,
                           v1::ListWorkersResponse* response) override {
    v1::Worker* worker = response->add_workers();
    worker->set_id("w-1");
    worker->set_device_kind("cpu");
    worker->set_state(v1::IDLE);
    worker->mutable_last_heartbeat()->set_seconds(kNow - 2);
    return grpc::Status::OK;
  }

  std::vector<v1::SubmitJobsRequest> submitted() {
    absl::MutexLock lock(&mu_);
    return submitted_;
  }
  std::vector<v1::ListJobsRequest> list_requests() {
    absl::MutexLock lock(&mu_);
    return list_requests_;
  }
  std::vector<v1::DeleteJobRequest> deleted() {
    absl::MutexLock lock(&mu_);
    return deleted_;
  }
  void set_stopping_refusals(int n) {
    absl::MutexLock lock(&mu_);
    stopping_refusals_ = n;
  }

  // Set before the server starts; read-only afterwards.
  std::vector<v1::Job> jobs_;
  std::vector<v1::Job> watch_snapshots_;

 private:
  absl::Mutex mu_;
  std::vector<v1::SubmitJobsRequest> submitted_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::ListJobsRequest> list_requests_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::DeleteJobRequest> deleted_ ABSL_GUARDED_BY(mu_);
  int stopping_refusals_ ABSL_GUARDED_BY(mu_) = 0;
};

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_.jobs_ = {MakeJob("j-000001", "fmnist-pretrain", v1::RUNNING),
                      MakeJob("j-000002", "fmnist-finetune-1pct",
                              v1::PENDING)};
    service_.jobs_[0].mutable_progress()->set_step(4);
    service_.jobs_[0].mutable_progress()->set_total_steps(8);
    for (int step : {2, 4, 8}) {
      v1::Job snapshot = service_.jobs_[0];
      snapshot.mutable_progress()->set_step(step);
      (*snapshot.mutable_metrics())["loss"] = 5.0 - step * 0.25;
      if (step == 8) snapshot.set_state(v1::SUCCEEDED);
      service_.watch_snapshots_.push_back(snapshot);
    }
  }

  // Starts the in-process server; call after adjusting service_.
  void Start() {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::JobService::NewStub(
        server_->InProcessChannel(grpc::ChannelArguments()));
    ctx_.stub = stub_.get();
    ctx_.coordinator = "in-process";
    ctx_.out = &out_;
    ctx_.err = &err_;
    ctx_.clock = &clock_;
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  FakeJobService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::JobService::Stub> stub_;
  FakeClock clock_;
  std::ostringstream out_;
  std::ostringstream err_;
  CommandContext ctx_;
};

TEST_F(CommandsTest, SubmitSendsAllSpecsInOneRequestAndPrintsIds) {
  Start();
  EXPECT_EQ(SubmitFile(ctx_, "examples/fmnist-pipeline.yaml", nullptr),
            kExitOk);
  EXPECT_EQ(out_.str(), "j-000001\nj-000002\nj-000003\n");
  EXPECT_EQ(err_.str(), "");
  std::vector<v1::SubmitJobsRequest> sent = service_.submitted();
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_EQ(sent[0].specs_size(), 3);
  EXPECT_EQ(sent[0].specs(1).name(), "fmnist-finetune-1pct");
  EXPECT_EQ(sent[0].specs(1).data().label_fraction(), 0.01);
  EXPECT_EQ(sent[0].specs(2).teacher(), "fmnist-finetune-1pct");
}

TEST_F(CommandsTest, SubmitReadsStdinForDash) {
  Start();
  std::istringstream in("name: a\nkind: pretrain\n");
  EXPECT_EQ(SubmitFile(ctx_, "-", &in), kExitOk);
  EXPECT_EQ(out_.str(), "j-000001\n");
  ASSERT_EQ(service_.submitted().size(), 1u);
  EXPECT_EQ(service_.submitted()[0].specs(0).name(), "a");
}

TEST_F(CommandsTest, SubmitOfInvalidYamlSendsNothingAndExits2) {
  Start();
  EXPECT_EQ(SubmitText(ctx_, "jobs.yaml", "name: a\nmodle: {}\n"), kExitUsage);
  EXPECT_THAT(err_.str(),
              HasSubstr("error: jobs.yaml: spec 1 (a): unknown field "
                        "\"modle\""));
  EXPECT_TRUE(service_.submitted().empty());
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, SubmitOfUnreadableFileExits2NamingThePath) {
  Start();
  EXPECT_EQ(SubmitFile(ctx_, "/nonexistent/jobs.yaml", nullptr), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("-f /nonexistent/jobs.yaml: cannot read"));
}

TEST_F(CommandsTest, SpecRejectedByCoordinatorExits2WithItsMessage) {
  Start();
  EXPECT_EQ(SubmitText(ctx_, "jobs.yaml", "name: a\nworld_size: 65\n"),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("rejected by the coordinator: "
                                    "specs[0].world_size: 65 is more"));
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, GetJobsPrintsATableWithWhyJobsWait) {
  service_.jobs_[1].set_reason("waiting for fmnist-pretrain (j-000001) to succeed");
  Start();
  EXPECT_EQ(GetJobs(ctx_, {}, OutputFormat::kTable), kExitOk);
  EXPECT_EQ(out_.str(),
            "ID         NAME                   KIND       STATE     PROGRESS    AGE   REASON\n"
            "j-000001   fmnist-pretrain        pretrain   RUNNING   4/8 (50%)   30s   -\n"
            "j-000002   fmnist-finetune-1pct   pretrain   PENDING   -           30s   "
            "waiting for fmnist-pretrain (j-000001) to succeed\n");
}

TEST_F(CommandsTest, GetJobsFollowsEveryPageAndSendsTheFilters) {
  for (int i = 3; i <= 5; ++i) {
    service_.jobs_.push_back(MakeJob("j-00000" + std::to_string(i), "x" + std::to_string(i),
                                     v1::QUEUED));
  }
  Start();
  JobQuery query;
  query.states = {v1::QUEUED, v1::RUNNING};
  query.label_selector = "team=vision";
  query.page_size = 2;
  EXPECT_EQ(GetJobs(ctx_, query, OutputFormat::kName), kExitOk);
  EXPECT_EQ(out_.str(), "fmnist-pretrain\nfmnist-finetune-1pct\nx3\nx4\nx5\n");
  const std::vector<v1::ListJobsRequest> sent = service_.list_requests();
  ASSERT_EQ(sent.size(), 3u);  // 2 + 2 + 1
  EXPECT_EQ(sent[0].page_token(), "");
  EXPECT_EQ(sent[1].page_token(), "2");
  EXPECT_EQ(sent[2].page_token(), "4");
  EXPECT_EQ(sent[2].label_selector(), "team=vision");
  ASSERT_EQ(sent[2].states_size(), 2);
  EXPECT_EQ(sent[2].states(0), v1::QUEUED);

  out_.str("");
  query.limit = 3;
  EXPECT_EQ(GetJobs(ctx_, query, OutputFormat::kName), kExitOk);
  EXPECT_EQ(out_.str(), "fmnist-pretrain\nfmnist-finetune-1pct\nx3\n");
}

TEST_F(CommandsTest, WatchJobsPrintsTheTableOnceThenOnlyChanges) {
  Start();
  EXPECT_EQ(WatchJobs(ctx_, {}, OutputFormat::kTable, absl::ZeroDuration(), 2), kExitOk);
  // Nothing changed between the two polls: the header and two rows, once.
  const std::string out = out_.str();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;
}

TEST_F(CommandsTest, GetJobByNameAsJson) {
  Start();
  EXPECT_EQ(GetJob(ctx_, "fmnist-finetune-1pct", OutputFormat::kJson), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("\"id\": \"j-000002\",\n"));
  EXPECT_THAT(out_.str(), HasSubstr("\"state\": \"PENDING\",\n"));
  EXPECT_EQ(out_.str().front(), '{');
}

TEST_F(CommandsTest, GetJobMetricsPrintsTheCurve) {
  Start();
  EXPECT_EQ(GetJobMetrics(ctx_, "fmnist-pretrain", OutputFormat::kTable), kExitOk);
  EXPECT_EQ(out_.str(), "STEP   EPOCH   LOSS\n1      0.250   4.5\n");
}

TEST_F(CommandsTest, LogsPrintsTheChunksAndMarksALaterAttempt) {
  Start();
  EXPECT_EQ(Logs(ctx_, "fmnist-pretrain", 0, 0, /*follow=*/true), kExitOk);
  EXPECT_EQ(out_.str(), "step 1\nstep 2\n==> attempt 2 <==\nresumed at step 2\n");
  out_.str("");
  EXPECT_EQ(Logs(ctx_, "fmnist-pretrain", 0, 0, /*follow=*/false), kExitOk);
  EXPECT_EQ(out_.str(), "step 1\nstep 2\n");
  EXPECT_EQ(Logs(ctx_, "nope", 0, 0, false), kExitFailed);
}

TEST_F(CommandsTest, DeleteWithCancelWaitsForTheGangToStop) {
  service_.set_stopping_refusals(2);
  Start();
  // Time passes while Delete waits between its tries.
  std::atomic<bool> done{false};
  std::thread ticker([&] {
    while (!done) {
      clock_.Advance(absl::Seconds(1));
      absl::SleepFor(absl::Milliseconds(1));
    }
  });
  const int code = Delete(ctx_, "fmnist-pretrain", /*cancel=*/true, absl::Hours(1));
  done = true;
  ticker.join();
  EXPECT_EQ(code, kExitOk);
  EXPECT_EQ(out_.str(), "job fmnist-pretrain deleted\n");
  ASSERT_EQ(service_.deleted().size(), 3u);
  EXPECT_TRUE(service_.deleted()[0].cancel());
}

TEST_F(CommandsTest, DeleteWithoutCancelReportsTheRefusal) {
  service_.set_stopping_refusals(1);
  Start();
  EXPECT_EQ(Delete(ctx_, "fmnist-pretrain", /*cancel=*/false), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("still runs its rank 0"));
  EXPECT_EQ(service_.deleted().size(), 1u);
}

TEST_F(CommandsTest, RetrySubmitsTheSpecAsSubmittedUnderAFreeName) {
  v1::Job failed = MakeJob("j-000003", "fmnist-finetune", v1::FAILED);
  failed.mutable_submitted_spec()->set_name("fmnist-finetune");
  failed.mutable_submitted_spec()->set_kind("finetune");
  failed.mutable_submitted_spec()->set_parent("fmnist-pretrain");
  service_.jobs_.push_back(failed);
  service_.jobs_.push_back(MakeJob("j-000004", "fmnist-finetune-retry-1", v1::FAILED));
  Start();
  EXPECT_EQ(Retry(ctx_, "fmnist-finetune"), kExitOk);
  EXPECT_EQ(out_.str(), "j-000001 fmnist-finetune-retry-2\n");
  ASSERT_EQ(service_.submitted().size(), 1u);
  const v1::JobSpec sent = service_.submitted()[0].specs(0);
  EXPECT_EQ(sent.name(), "fmnist-finetune-retry-2");
  EXPECT_EQ(sent.parent(), "fmnist-pretrain");
  EXPECT_FALSE(sent.has_model());  // as submitted: no defaults filled in
}

TEST_F(CommandsTest, GetUnknownJobExits1) {
  Start();
  EXPECT_EQ(GetJob(ctx_, "nope", OutputFormat::kTable), kExitFailed);
  EXPECT_EQ(err_.str(),
            "error: get job nope: not found: no job with id or name "
            "\"nope\"\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, GetWorkersAsYaml) {
  Start();
  EXPECT_EQ(GetWorkers(ctx_, OutputFormat::kYaml), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("workers:\n  - id: w-1\n"));
  EXPECT_THAT(out_.str(), HasSubstr("    state: IDLE\n"));
  EXPECT_THAT(out_.str(), HasSubstr("    last_heartbeat: 2025-12-31T23:59:58Z\n"));
}

TEST_F(CommandsTest, CancelPrintsTheNewState) {
  Start();
  EXPECT_EQ(Cancel(ctx_, "j-000001"), kExitOk);
  EXPECT_EQ(out_.str(), "job fmnist-pretrain (j-000001): CANCELLED\n");
}

TEST_F(CommandsTest, WatchPrintsPlainLinesAndExits0OnSuccess) {
  Start();
  EXPECT_EQ(Watch(ctx_, "fmnist-pretrain"), kExitOk);
  EXPECT_EQ(out_.str(),
            "fmnist-pretrain RUNNING step 2/8 (25%) loss 4.5000\n"
            "fmnist-pretrain RUNNING step 4/8 (50%) loss 4.0000\n"
            "fmnist-pretrain SUCCEEDED step 8/8 (100%) loss 3.0000\n"
            "job fmnist-pretrain (j-000001) SUCCEEDED\n");
}

TEST_F(CommandsTest, WatchRedrawsInPlaceOnATerminal) {
  Start();
  ctx_.interactive = true;
  ctx_.terminal_width = 100;
  EXPECT_EQ(Watch(ctx_, "fmnist-pretrain"), kExitOk);
  const std::string out = out_.str();
  // Three redraws of one line, then a newline and the summary.
  EXPECT_EQ(std::count(out.begin(), out.end(), '\r'), 3);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
  EXPECT_THAT(out, HasSubstr("\rfmnist-pretrain SUCCEEDED [#"));
  EXPECT_THAT(out, HasSubstr("\njob fmnist-pretrain (j-000001) SUCCEEDED\n"));
}

TEST_F(CommandsTest, WatchOfFailedJobPrintsReasonAndExits1) {
  v1::Job failed = service_.jobs_[0];
  failed.set_state(v1::FAILED);
  failed.set_reason("worker w-2 lost (lease expired) after 3 attempts");
  service_.watch_snapshots_ = {service_.jobs_[0], failed};
  Start();
  EXPECT_EQ(Watch(ctx_, "fmnist-pretrain"), kExitFailed);
  EXPECT_THAT(out_.str(),
              HasSubstr("job fmnist-pretrain (j-000001) FAILED: worker w-2 "
                        "lost (lease expired) after 3 attempts\n"));
}

TEST_F(CommandsTest, WatchOfUnknownJobExits1) {
  Start();
  EXPECT_EQ(Watch(ctx_, "nope"), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("error: watch nope: not found"));
}

TEST(CommandsUnreachableTest, UnreachableCoordinatorExits3NamingTheAddress) {
  // Port 1 on the loopback interface: nothing listens, the connection is
  // refused at once.
  const std::string address = "127.0.0.1:1";
  auto stub = v1::JobService::NewStub(CreateCoordinatorChannel(address, grpc::InsecureChannelCredentials()));
  std::ostringstream out, err;
  CommandContext ctx;
  ctx.stub = stub.get();
  ctx.coordinator = address;
  ctx.out = &out;
  ctx.err = &err;
  EXPECT_EQ(GetJobs(ctx, {}, OutputFormat::kTable), kExitUnavailable);
  EXPECT_THAT(err.str(), HasSubstr("cannot reach the coordinator at "
                                   "127.0.0.1:1"));
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace simclr::client
