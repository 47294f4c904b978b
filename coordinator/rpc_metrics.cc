#include "coordinator/rpc_metrics.h"

#include <chrono>

namespace simclr::coordinator {
namespace {

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(grpc::experimental::ServerRpcInfo* info, RpcMetrics* metrics)
      : method_(info->method()), metrics_(metrics), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
      metrics_->Record(method_, StatusCodeName(status.error_code()), elapsed.count());
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  RpcMetrics* const metrics_;
  const std::chrono::steady_clock::time_point start_;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(RpcMetrics* metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(info, metrics_);
  }

 private:
  RpcMetrics* const metrics_;
};

}  // namespace

std::string StatusCodeName(int code) {
  static const char* const kNames[] = {
      "OK",           "CANCELLED",          "UNKNOWN",        "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",     "ALREADY_EXISTS", "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",          "UNAVAILABLE",    "DATA_LOSS",
      "UNAUTHENTICATED"};
  if (code < 0 || code >= static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) return "UNKNOWN";
  return kNames[code];
}

RpcMetrics::RpcMetrics(prometheus::Registry& registry)
    : rpcs_(prometheus::BuildCounter()
                .Name("simclr_coordinator_rpcs_total")
                .Help("RPCs served, by full method name and status code.")
                .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("simclr_coordinator_rpc_duration_seconds")
                    .Help("Time from receiving an RPC to sending its status, by method.")
                    .Register(registry)),
      unauthenticated_(prometheus::BuildCounter()
                           .Name("simclr_coordinator_unauthenticated_requests_total")
                           .Help("RPCs refused for missing, bad or insufficient credentials "
                                 "(UNAUTHENTICATED or PERMISSION_DENIED).")
                           .Register(registry)
                           .Add({})) {}

void RpcMetrics::Record(const std::string& method, const std::string& code, double seconds) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600};
  rpcs_.Add({{"method", method}, {"code", code}}).Increment();
  // Streams (WatchJob, GetJobLogs) last as long as the job; their duration is still useful.
  duration_.Add({{"method", method}}, kBuckets).Observe(seconds);
  if (code == "UNAUTHENTICATED" || code == "PERMISSION_DENIED") unauthenticated_.Increment();
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
MakeRpcMetricsInterceptors(RpcMetrics* metrics) {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<MetricsInterceptorFactory>(metrics));
  return factories;
}

}  // namespace simclr::coordinator
