// The gRPC adapters in process: real services over a real Coordinator,
// reached through an in-process channel.
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "common/testing/fake_clock.h"
#include "common/version.h"
#include "coordinator/coordinator.h"
#include "coordinator/job_service.h"
#include "coordinator/testing/in_memory_job_store.h"
#include "coordinator/worker_service.h"
#include "gtest/gtest.h"

namespace simclr::coordinator {
namespace {

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(nullptr); }

  // Starts the services; `auth` null: insecure mode.
  void Start(const Authenticator* auth) {
    auto c = Coordinator::Create(CoordinatorOptions{}, &store_, &clock_);
    ASSERT_TRUE(c.ok());
    coordinator_ = *std::move(c);
    jobs_ = std::make_unique<JobServiceImpl>(coordinator_.get(), absl::Milliseconds(10), auth);
    workers_ = std::make_unique<WorkerServiceImpl>(coordinator_.get(), auth);
    grpc::ServerBuilder builder;
    builder.RegisterService(jobs_.get());
    builder.RegisterService(workers_.get());
    server_ = builder.BuildAndStart();
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
    job_stub_ = v1::JobService::NewStub(channel_);
    worker_stub_ = v1::WorkerService::NewStub(channel_);
  }

  void TearDown() override { server_->Shutdown(); }

  v1::JobSpec Pretrain(const std::string& name) {
    v1::JobSpec spec;
    spec.set_name(name);
    spec.set_kind("pretrain");
    spec.mutable_data()->set_dataset("fashion-mnist");
    return spec;
  }

  FakeClock clock_;
  InMemoryJobStore store_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<JobServiceImpl> jobs_;
  std::unique_ptr<WorkerServiceImpl> workers_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::JobService::Stub> job_stub_;
  std::unique_ptr<v1::WorkerService::Stub> worker_stub_;
};

TEST_F(ServicesTest, SubmitMapsValidationErrorsToInvalidArgument) {
  grpc::ClientContext context;
  v1::SubmitJobsRequest request;
  *request.add_specs() = Pretrain("ok");
  v1::JobSpec bad = Pretrain("bad");
  bad.set_kind("nope");
  *request.add_specs() = bad;
  v1::SubmitJobsResponse response;
  grpc::Status status = job_stub_->SubmitJobs(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("spec 2 (bad): kind"), std::string::npos);
  EXPECT_EQ(response.job_ids_size(), 0);
}

TEST_F(ServicesTest, GetJobByNameAndNotFound) {
  grpc::ClientContext submit_context;
  v1::SubmitJobsRequest request;
  *request.add_specs() = Pretrain("p");
  v1::SubmitJobsResponse submitted;
  ASSERT_TRUE(job_stub_->SubmitJobs(&submit_context, request, &submitted).ok());
  ASSERT_EQ(submitted.job_ids_size(), 1);

  grpc::ClientContext get_context;
  v1::GetJobRequest get;
  get.set_job("p");
  v1::Job job;
  ASSERT_TRUE(job_stub_->GetJob(&get_context, get, &job).ok());
  EXPECT_EQ(job.id(), submitted.job_ids(0));
  EXPECT_EQ(job.state(), v1::QUEUED);
  EXPECT_EQ(job.spec().model().depth(), 50);  // defaults applied and stored

  grpc::ClientContext missing_context;
  get.set_job("nope");
  EXPECT_EQ(job_stub_->GetJob(&missing_context, get, &job).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServicesTest, WatchStreamsEveryChangeAndEndsAtTheFinalState) {
  grpc::ClientContext submit_context;
  v1::SubmitJobsRequest request;
  *request.add_specs() = Pretrain("w");
  v1::SubmitJobsResponse submitted;
  ASSERT_TRUE(job_stub_->SubmitJobs(&submit_context, request, &submitted).ok());

  grpc::ClientContext watch_context;
  v1::WatchJobRequest watch;
  watch.set_job("w");
  auto reader = job_stub_->WatchJob(&watch_context, watch);
  v1::Job seen;
  ASSERT_TRUE(reader->Read(&seen));
  EXPECT_EQ(seen.state(), v1::QUEUED);

  grpc::ClientContext register_context;
  v1::RegisterWorkerRequest registration;
  registration.set_protocol_version(kWorkerProtocolVersion);
  registration.set_collective_address("127.0.0.1:1");
  v1::RegisterWorkerResponse registered;
  ASSERT_TRUE(worker_stub_->RegisterWorker(&register_context, registration, &registered).ok());
  ASSERT_TRUE(reader->Read(&seen));
  EXPECT_EQ(seen.state(), v1::RUNNING);

  grpc::ClientContext complete_context;
  v1::CompleteTaskRequest complete;
  complete.set_worker_id(registered.worker_id());
  complete.set_task_id(submitted.job_ids(0) + ".1");
  complete.set_success(true);
  v1::CompleteTaskResponse done;
  ASSERT_TRUE(worker_stub_->CompleteTask(&complete_context, complete, &done).ok());
  std::vector<v1::JobState> states;
  while (reader->Read(&seen)) states.push_back(seen.state());
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.back(), v1::SUCCEEDED);
  EXPECT_TRUE(reader->Finish().ok());
}

TEST_F(ServicesTest, UnknownWorkerIsToldToRegisterAgain) {
  grpc::ClientContext context;
  v1::HeartbeatRequest beat;
  beat.set_worker_id("w-404");
  v1::HeartbeatResponse response;
  ASSERT_TRUE(worker_stub_->Heartbeat(&context, beat, &response).ok());
  EXPECT_TRUE(response.reregister());
}

// The same services with tokens: each role reaches its own API only, a
// worker speaks only for the ids it registered, a user cancels only its own
// jobs.
class SecuredServicesTest : public ServicesTest {
 protected:
  static constexpr char kAlice[] = "alice-token-0123456789";
  static constexpr char kBob[] = "bob-token-0123456789abc";
  static constexpr char kOps[] = "ops-token-0123456789abc";
  static constexpr char kPoolA[] = "pool-a-token-0123456789";
  static constexpr char kPoolB[] = "pool-b-token-0123456789";

  void SetUp() override {
    const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/secured.tokens";
    std::ofstream(path) << kAlice << " alice user\n"
                        << kBob << " bob user\n"
                        << kOps << " ops admin\n"
                        << kPoolA << " pool-a worker\n"
                        << kPoolB << " pool-b worker\n";
    auto auth = Authenticator::Create(path);
    ASSERT_TRUE(auth.ok()) << auth.status();
    auth_ = *std::move(auth);
    Start(auth_.get());
  }

  static void As(grpc::ClientContext* context, const std::string& token) {
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  }

  grpc::Status Submit(const std::string& token, const std::string& name, std::string* id) {
    grpc::ClientContext context;
    As(&context, token);
    v1::SubmitJobsRequest request;
    *request.add_specs() = Pretrain(name);
    v1::SubmitJobsResponse response;
    grpc::Status status = job_stub_->SubmitJobs(&context, request, &response);
    if (status.ok()) *id = response.job_ids(0);
    return status;
  }

  grpc::Status Register(const std::string& token, std::string* id) {
    grpc::ClientContext context;
    As(&context, token);
    v1::RegisterWorkerRequest request;
    request.set_protocol_version(kWorkerProtocolVersion);
    request.set_collective_address("127.0.0.1:1");
    v1::RegisterWorkerResponse response;
    grpc::Status status = worker_stub_->RegisterWorker(&context, request, &response);
    if (status.ok()) *id = response.worker_id();
    return status;
  }

  std::unique_ptr<Authenticator> auth_;
};

TEST_F(SecuredServicesTest, EachRoleReachesItsOwnApiOnly) {
  std::string id;
  EXPECT_EQ(Submit("", "a", &id).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Submit("wrong-token-0123456789", "a", &id).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Submit(kPoolA, "a", &id).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Submit(kAlice, "a", &id).ok());
  EXPECT_EQ(coordinator_->GetJob(id)->submitted_by(), "alice");

  std::string worker;
  EXPECT_EQ(Register(kAlice, &worker).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Register("", &worker).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(coordinator_->ListWorkers().empty());  // nothing registered by the refusals
  EXPECT_TRUE(Register(kPoolA, &worker).ok());
}

TEST_F(SecuredServicesTest, AWorkerCannotReportForAnother) {
  std::string job;
  ASSERT_TRUE(Submit(kAlice, "a", &job).ok());
  std::string worker;
  ASSERT_TRUE(Register(kPoolA, &worker).ok());
  ASSERT_EQ(coordinator_->GetJob(job)->state(), v1::RUNNING);

  // pool-b forges a result for pool-a's task: refused, nothing changes.
  grpc::ClientContext forged;
  As(&forged, kPoolB);
  v1::CompleteTaskRequest complete;
  complete.set_worker_id(worker);
  complete.set_task_id(job + ".1");
  complete.set_success(true);
  complete.set_checkpoint("/etc/evil");
  v1::CompleteTaskResponse done;
  EXPECT_EQ(worker_stub_->CompleteTask(&forged, complete, &done).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext deregister;
  As(&deregister, kPoolB);
  v1::DeregisterWorkerRequest drop;
  drop.set_worker_id(worker);
  v1::DeregisterWorkerResponse dropped;
  EXPECT_EQ(worker_stub_->DeregisterWorker(&deregister, drop, &dropped).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(coordinator_->GetJob(job)->state(), v1::RUNNING);
  EXPECT_EQ(coordinator_->GetJob(job)->checkpoint(), "");

  // Its own report is taken.
  grpc::ClientContext own;
  As(&own, kPoolA);
  complete.set_checkpoint(coordinator_->GetJob(job)->artifact_dir() + "/ckpt-1.simclr");
  ASSERT_TRUE(worker_stub_->CompleteTask(&own, complete, &done).ok());
  EXPECT_EQ(coordinator_->GetJob(job)->state(), v1::SUCCEEDED);
}

TEST_F(SecuredServicesTest, OnlyTheSubmitterOrAnAdminCancels) {
  std::string job;
  ASSERT_TRUE(Submit(kAlice, "a", &job).ok());
  v1::CancelJobRequest cancel;
  cancel.set_job(job);
  v1::Job out;
  grpc::ClientContext bob;
  As(&bob, kBob);
  grpc::Status refused = job_stub_->CancelJob(&bob, cancel, &out);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(refused.error_message().find("submitted by \"alice\""), std::string::npos);
  grpc::ClientContext ops;
  As(&ops, kOps);
  ASSERT_TRUE(job_stub_->CancelJob(&ops, cancel, &out).ok());
  EXPECT_EQ(out.state(), v1::CANCELLED);
  EXPECT_EQ(out.reason(), "cancelled by ops");
}

}  // namespace
}  // namespace simclr::coordinator
