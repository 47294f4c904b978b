// The gRPC adapters in process: real services over a real Coordinator,
// reached through an in-process channel.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "common/testing/fake_clock.h"
#include "coordinator/coordinator.h"
#include "coordinator/job_service.h"
#include "coordinator/testing/in_memory_job_store.h"
#include "coordinator/worker_service.h"
#include "gtest/gtest.h"

namespace simclr::coordinator {
namespace {

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Coordinator::Create(CoordinatorOptions{}, &store_, &clock_);
    ASSERT_TRUE(c.ok());
    coordinator_ = *std::move(c);
    jobs_ = std::make_unique<JobServiceImpl>(coordinator_.get(), absl::Milliseconds(10));
    workers_ = std::make_unique<WorkerServiceImpl>(coordinator_.get());
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

}  // namespace
}  // namespace simclr::coordinator
