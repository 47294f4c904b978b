#include "worker/coordinator_connection.h"

#include <chrono>

#include <grpc/grpc.h>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

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
    return Call(&v1::WorkerService::Stub::RegisterWorker, request, kFailFast);
  }
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request) override {
    return Call(&v1::WorkerService::Stub::Heartbeat, request, kWaitForReady);
  }
  absl::StatusOr<v1::ReportProgressResponse> ReportProgress(
      const v1::ReportProgressRequest& request) override {
    return Call(&v1::WorkerService::Stub::ReportProgress, request, kFailFast);
  }
  absl::Status CompleteTask(const v1::CompleteTaskRequest& request) override {
    return Call(&v1::WorkerService::Stub::CompleteTask, request, kFailFast).status();
  }
  absl::Status DeregisterWorker(const v1::DeregisterWorkerRequest& request) override {
    return Call(&v1::WorkerService::Stub::DeregisterWorker, request, kFailFast).status();
  }

 private:
  // Heartbeats wait (up to the deadline) for a coordinator that is away: a
  // waiting call keeps the channel trying to connect, every
  // kMaxReconnectBackoff at most, and returns once it is back, to be told
  // to register again. A fail-fast call fails at once while the channel is
  // down, and gRPC 1.51's channel then retries only lazily (seconds apart,
  // measured), too late for a restarted coordinator's reconciliation. The
  // other calls fail fast: registration, so that a worker that cannot reach
  // its coordinator at all (a wrong address, a certificate it refuses) says
  // why at once rather than "deadline exceeded"; reports, which their
  // callers retry on their own schedule; and the calls of a stopping
  // worker, which must not wait on a coordinator that is gone.
  static constexpr bool kWaitForReady = true;
  static constexpr bool kFailFast = false;

  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(grpc::Status (v1::WorkerService::Stub::*method)(
                                    grpc::ClientContext*, const Request&, Response*),
                                const Request& request, bool wait_for_ready) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         absl::ToChronoMilliseconds(deadline_));
    context.set_wait_for_ready(wait_for_ready);
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

std::shared_ptr<grpc::Channel> MakeCoordinatorChannel(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials) {
  const int max_backoff_ms = static_cast<int>(absl::ToInt64Milliseconds(kMaxReconnectBackoff));
  grpc::ChannelArguments args;
  // The first retry after a quarter of the bound, growing by gRPC's 1.6 to it.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, max_backoff_ms / 4);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_backoff_ms);
  return grpc::CreateCustomChannel(address, std::move(credentials), args);
}

std::unique_ptr<CoordinatorConnection> MakeGrpcConnection(std::shared_ptr<grpc::Channel> channel,
                                                          absl::Duration deadline,
                                                          std::string token_file) {
  return std::make_unique<GrpcConnection>(std::move(channel), deadline, std::move(token_file));
}

}  // namespace simclr::worker
