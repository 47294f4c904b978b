// Per-RPC metrics for a gRPC server, recorded by a server interceptor:
//   simclr_coordinator_rpcs_total{method, code}
//   simclr_coordinator_rpc_duration_seconds{method}
//   simclr_coordinator_unauthenticated_requests_total
#ifndef SIMCLR_COORDINATOR_RPC_METRICS_H_
#define SIMCLR_COORDINATOR_RPC_METRICS_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace simclr::coordinator {

// Thread-safe.
class RpcMetrics {
 public:
  explicit RpcMetrics(prometheus::Registry& registry);

  // `method` is the full gRPC method name; `code` the status code's name.
  void Record(const std::string& method, const std::string& code, double seconds);

 private:
  prometheus::Family<prometheus::Counter>& rpcs_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Counter& unauthenticated_;
};

// Interceptor factories that feed `metrics` (not owned; must outlive the server).
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
MakeRpcMetricsInterceptors(RpcMetrics* metrics);

// "OK", "INVALID_ARGUMENT", ...
std::string StatusCodeName(int code);

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_RPC_METRICS_H_
