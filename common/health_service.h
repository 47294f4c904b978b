// The gRPC health-checking service (grpc.health.v1.Health), synchronous.
//
// gRPC's own (grpc::EnableDefaultHealthCheckService) runs on the callback
// API, and in gRPC 1.51 a process that serves any callback method starts
// threads of the callback API that poll every connection of the process and
// hand each call they read to the synchronous server's threads: a wake-up per
// call. At 10,000 heartbeating workers that hand-off was about a tenth of the
// coordinator's CPU (docs/performance.md), so the daemons serve this instead
// and no callback method at all.
//
//   HealthService health({"simclr.v1.JobService", "simclr.v1.WorkerService"});
//   builder.RegisterService(&health);
//   ...
//   health.Shutdown();  // NOT_SERVING; open watches end
//   server->Shutdown(deadline);
#ifndef SIMCLR_COMMON_HEALTH_SERVICE_H_
#define SIMCLR_COMMON_HEALTH_SERVICE_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "proto/grpc/health/v1/health.grpc.pb.h"

namespace simclr {

// Thread-safe. Answers SERVING for "" (the server as a whole) and for each
// of `services` until Shutdown, NOT_SERVING after; Check answers NOT_FOUND
// and Watch SERVICE_UNKNOWN for any other name, as the protocol says.
class HealthService final : public grpc::health::v1::Health::Service {
 public:
  explicit HealthService(std::vector<std::string> services = {});

  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  // Holds one of the server's threads while the watch lasts: at most
  // kMaxWatches at a time, RESOURCE_EXHAUSTED beyond (watches are few:
  // probes and load balancers Check).
  grpc::Status Watch(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;

  // Everything NOT_SERVING from now on; open watches send it and end (OK),
  // so that the server's shutdown does not wait for them.
  void Shutdown();

  static constexpr int kMaxWatches = 16;

 private:
  grpc::health::v1::HealthCheckResponse::ServingStatus StatusOf(const std::string& service) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::vector<std::string> services_;
  mutable absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  int watches_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace simclr

#endif  // SIMCLR_COMMON_HEALTH_SERVICE_H_
