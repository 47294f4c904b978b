// The gRPC health-checking service on a plaintext port of its own, for
// probes (Kubernetes' gRPC probes cannot present tokens or client
// certificates). It answers SERVING while the process runs; it carries no
// data and takes no credentials.
#ifndef SIMCLR_COMMON_HEALTH_SERVER_H_
#define SIMCLR_COMMON_HEALTH_SERVER_H_

#include <memory>
#include <string>

#include <grpcpp/server.h>

#include "absl/status/statusor.h"
#include "common/health_service.h"

namespace simclr {

class HealthServer {
 public:
  // Starts it on `address` (host:port). InvalidArgument naming the address
  // when it cannot listen there.
  static absl::StatusOr<std::unique_ptr<HealthServer>> Start(const std::string& address);

  // NOT_SERVING, then stops the server.
  void Shutdown();
  ~HealthServer() { service_.Shutdown(); }  // open watches end before server_ stops

 private:
  HealthServer() = default;

  HealthService service_;  // outlives server_
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace simclr

#endif  // SIMCLR_COMMON_HEALTH_SERVER_H_
