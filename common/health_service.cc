#include "common/health_service.h"

#include <algorithm>
#include <utility>

#include "absl/time/time.h"

namespace simclr {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

HealthService::HealthService(std::vector<std::string> services) : services_(std::move(services)) {}

HealthCheckResponse::ServingStatus HealthService::StatusOf(const std::string& service) const {
  if (!service.empty() && std::find(services_.begin(), services_.end(), service) == services_.end()) {
    return HealthCheckResponse::SERVICE_UNKNOWN;
  }
  return shut_down_ ? HealthCheckResponse::NOT_SERVING : HealthCheckResponse::SERVING;
}

grpc::Status HealthService::Check(grpc::ServerContext*, const HealthCheckRequest* request,
                                  HealthCheckResponse* response) {
  absl::MutexLock lock(&mu_);
  const HealthCheckResponse::ServingStatus status = StatusOf(request->service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service \"" + request->service() + "\"");
  }
  response->set_status(status);
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(grpc::ServerContext* context, const HealthCheckRequest* request,
                                  grpc::ServerWriter<HealthCheckResponse>* writer) {
  HealthCheckResponse response;
  {
    absl::MutexLock lock(&mu_);
    response.set_status(StatusOf(request->service()));
  }
  if (!writer->Write(response)) return grpc::Status::OK;  // the client is gone
  {
    // The status changes once at most, at Shutdown. Wake up every second to
    // notice a client that went away.
    absl::MutexLock lock(&mu_);
    while (!shut_down_ && !context->IsCancelled()) {
      mu_.AwaitWithTimeout(absl::Condition(&shut_down_), absl::Seconds(1));
    }
    if (!shut_down_) return grpc::Status::CANCELLED;
    response.set_status(StatusOf(request->service()));
  }
  writer->Write(response);
  return grpc::Status::OK;
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
}

}  // namespace simclr
