#include "worker/coordinator_connection.h"

#include <chrono>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "common/grpc_status.h"
#include "common/token_file.h"
#include "proto/simclr/v1/worker.grpc.pb.h"

namespace simclr::worker {
namespace {

class GrpcConnection final : public CoordinatorConnection {
 public:
  GrpcConnection(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline,
                 std::string token_file)
      : stub_(v1::WorkerService::NewStub(channel)), deadline_(deadline),
        token_(std::move(token_file)) {}

  absl::StatusOr<v1::RegisterWorkerResponse> RegisterWorker(
      const v1::RegisterWorkerRequest& request) override {
    return Call(&v1::WorkerService::Stub::RegisterWorker, request);
  }
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request) override {
    return Call(&v1::WorkerService::Stub::Heartbeat, request);
  }
  absl::StatusOr<v1::ReportProgressResponse> ReportProgress(
      const v1::ReportProgressRequest& request) override {
    return Call(&v1::WorkerService::Stub::ReportProgress, request);
  }
  absl::Status CompleteTask(const v1::CompleteTaskRequest& request) override {
    return Call(&v1::WorkerService::Stub::CompleteTask, request).status();
  }
  absl::Status DeregisterWorker(const v1::DeregisterWorkerRequest& request) override {
    return Call(&v1::WorkerService::Stub::DeregisterWorker, request).status();
  }

 private:
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(grpc::Status (v1::WorkerService::Stub::*method)(
                                    grpc::ClientContext*, const Request&, Response*),
                                const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         absl::ToChronoMilliseconds(deadline_));
    absl::StatusOr<std::string> authorization = token_.AuthorizationHeader();
    if (!authorization.ok()) return authorization.status();
    if (!authorization->empty()) context.AddMetadata("authorization", *authorization);
    Response response;
    grpc::Status status = (stub_.get()->*method)(&context, request, &response);
    if (!status.ok()) return FromGrpc(status);
    return response;
  }

  std::unique_ptr<v1::WorkerService::Stub> stub_;
  const absl::Duration deadline_;
  const TokenFile token_;
};

}  // namespace

std::unique_ptr<CoordinatorConnection> MakeGrpcConnection(std::shared_ptr<grpc::Channel> channel,
                                                          absl::Duration deadline,
                                                          std::string token_file) {
  return std::make_unique<GrpcConnection>(std::move(channel), deadline, std::move(token_file));
}

}  // namespace simclr::worker
