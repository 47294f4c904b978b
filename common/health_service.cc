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
    if (watches_ == kMaxWatches) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "too many health watches; use Check");
    }
    ++watches_;
    response.set_status(StatusOf(request->service()));
  }
  const HealthCheckResponse::ServingStatus first = response.status();
  bool changed = false;
  if (writer->Write(response)) {
    // The status changes once at most, at Shutdown. Wake up every second to
    // notice a client that went away.
    absl::MutexLock lock(&mu_);
    while (!shut_down_ && !context->IsCancelled()) {
      mu_.AwaitWithTimeout(absl::Condition(&shut_down_), absl::Seconds(1));
    }
    response.set_status(StatusOf(request->service()));
    changed = shut_down_ && response.status() != first;
  }
  if (changed) writer->Write(response);
  absl::MutexLock lock(&mu_);
  --watches_;
  return shut_down_ ? grpc::Status::OK : grpc::Status::CANCELLED;
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
}

}  // namespace simclr
