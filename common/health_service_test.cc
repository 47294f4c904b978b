#include "common/health_service.h"

#include <memory>
#include <thread>
#include <vector>

#include <grpcpp/client_context.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "proto/grpc/health/v1/health.grpc.pb.h"

namespace simclr {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class HealthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    stub_ = Health::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  void TearDown() override {
    service_.Shutdown();
    server_->Shutdown();
  }

  grpc::Status Check(const std::string& service, HealthCheckResponse* response) {
    grpc::ClientContext context;
    HealthCheckRequest request;
    request.set_service(service);
    return stub_->Check(&context, request, response);
  }

  HealthService service_{{"simclr.v1.JobService"}};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Health::Stub> stub_;
};

TEST_F(HealthServiceTest, ServesTheServerAndItsServicesAndKnowsNoOther) {
  HealthCheckResponse response;
  ASSERT_TRUE(Check("", &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  ASSERT_TRUE(Check("simclr.v1.JobService", &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check("simclr.v1.Elsewhere", &response).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(HealthServiceTest, ShutdownIsNotServing) {
  service_.Shutdown();
  HealthCheckResponse response;
  ASSERT_TRUE(Check("", &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
}

TEST_F(HealthServiceTest, AWatchSeesServingThenNotServingAtShutdownAndEnds) {
  grpc::ClientContext context;
  HealthCheckRequest request;
  auto reader = stub_->Watch(&context, request);
  HealthCheckResponse response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  std::thread shutdown([this] { service_.Shutdown(); });
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_TRUE(reader->Finish().ok());
  shutdown.join();
}

// Two watches of a service the server does not know: both hear
// SERVICE_UNKNOWN; one is cancelled by its client, the other ends at shutdown
// without hearing the unchanged status again.
TEST_F(HealthServiceTest, AWatchOfAnUnknownServiceSaysSoOnce) {
  HealthCheckRequest request;
  request.set_service("simclr.v1.Elsewhere");
  HealthCheckResponse response;
  grpc::ClientContext contexts[2];
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> readers[2];
  for (int i = 0; i < 2; ++i) {
    readers[i] = stub_->Watch(&contexts[i], request);
    ASSERT_TRUE(readers[i]->Read(&response));
    EXPECT_EQ(response.status(), HealthCheckResponse::SERVICE_UNKNOWN);
  }
  contexts[0].TryCancel();
  EXPECT_FALSE(readers[0]->Read(&response));
  EXPECT_EQ(readers[0]->Finish().error_code(), grpc::StatusCode::CANCELLED);
  service_.Shutdown();
  EXPECT_FALSE(readers[1]->Read(&response));
  EXPECT_TRUE(readers[1]->Finish().ok());
}

TEST_F(HealthServiceTest, WatchesAreBounded) {
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<HealthCheckResponse>>> readers;
  HealthCheckRequest request;
  HealthCheckResponse response;
  for (int i = 0; i < HealthService::kMaxWatches; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    readers.push_back(stub_->Watch(contexts.back().get(), request));
    ASSERT_TRUE(readers.back()->Read(&response)) << i;
  }
  grpc::ClientContext one_more;
  auto refused = stub_->Watch(&one_more, request);
  EXPECT_FALSE(refused->Read(&response));
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // A watch that ends frees its place, once its handler has noticed (within
  // a second).
  contexts[0]->TryCancel();
  readers[0]->Finish().IgnoreError();
  bool taken = false;
  for (int attempt = 0; attempt < 50 && !taken; ++attempt) {
    grpc::ClientContext again;
    auto reader = stub_->Watch(&again, request);
    taken = reader->Read(&response);
    again.TryCancel();
    reader->Finish().IgnoreError();
    if (!taken) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(taken);
  service_.Shutdown();
  for (int i = 1; i < HealthService::kMaxWatches; ++i) {
    while (readers[i]->Read(&response)) {}  // NOT_SERVING: a status comes after every message
    EXPECT_TRUE(readers[i]->Finish().ok());
  }
}

}  // namespace
}  // namespace simclr
