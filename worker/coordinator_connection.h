// The worker's view of the coordinator: the five WorkerService calls,
// returning Status. The gRPC implementation is in MakeGrpcConnection; tests
// can connect an Agent to an in-process server or a fake.
#ifndef SIMCLR_WORKER_COORDINATOR_CONNECTION_H_
#define SIMCLR_WORKER_COORDINATOR_CONNECTION_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/simclr/v1/worker.pb.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace simclr::worker {

// Thread-safe.
class CoordinatorConnection {
 public:
  virtual ~CoordinatorConnection() = default;
  virtual absl::StatusOr<v1::RegisterWorkerResponse> RegisterWorker(
      const v1::RegisterWorkerRequest& request) = 0;
  virtual absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request) = 0;
  virtual absl::StatusOr<v1::ReportProgressResponse> ReportProgress(
      const v1::ReportProgressRequest& request) = 0;
  virtual absl::Status CompleteTask(const v1::CompleteTaskRequest& request) = 0;
  virtual absl::Status DeregisterWorker(const v1::DeregisterWorkerRequest& request) = 0;
};

// Every call gets `deadline` (a slow coordinator must not stall heartbeats)
// and, with a `token_file`, the bearer token in it (read again when the file
// changes: common/token_file.h).
std::unique_ptr<CoordinatorConnection> MakeGrpcConnection(std::shared_ptr<grpc::Channel> channel,
                                                          absl::Duration deadline,
                                                          std::string token_file = "");

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_COORDINATOR_CONNECTION_H_
