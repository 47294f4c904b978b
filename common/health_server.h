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

namespace simclr {

// Starts it on `address` (host:port). InvalidArgument naming the address
// when it cannot listen there.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartHealthServer(const std::string& address);

}  // namespace simclr

#endif  // SIMCLR_COMMON_HEALTH_SERVER_H_
