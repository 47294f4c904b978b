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
class ChannelCredentials;
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

// How long at most a worker's channel waits between attempts to reach a
// coordinator that is away. gRPC's default backoff grows to two minutes: a
// coordinator back after a few seconds (a restarted process, a rescheduled
// pod) would wait that long for its workers, and a gang's ranks must be back
// within one lease of its return or the job is requeued (NOTE
// [reconciliation] in coordinator/coordinator.h). Bounded by this, a worker
// is heard within a heartbeat interval plus this of the coordinator's
// return (and registers again at once: worker/agent.cc), well inside a
// lease (3 heartbeat intervals). A fleet of N workers then tries N
// connections a second while the coordinator is down, which a refused
// connection makes cheap.
inline constexpr absl::Duration kMaxReconnectBackoff = absl::Seconds(1);

// A channel to the coordinator at `address` that retries at least every
// kMaxReconnectBackoff (gRPC adds +-20% jitter, so a fleet does not retry in
// step).
std::shared_ptr<grpc::Channel> MakeCoordinatorChannel(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials);

// Every call gets `deadline` (a slow coordinator must not stall heartbeats);
// Heartbeat waits for an unreachable coordinator until then, the other calls
// fail at once (why in the .cc),
// and, with a `token_file`, the bearer token in it (read again when the file
// changes: common/token_file.h).
std::unique_ptr<CoordinatorConnection> MakeGrpcConnection(std::shared_ptr<grpc::Channel> channel,
                                                          absl::Duration deadline,
                                                          std::string token_file = "");

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_COORDINATOR_CONNECTION_H_
