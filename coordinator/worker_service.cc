#include "coordinator/worker_service.h"

#include "common/grpc_status.h"

namespace simclr::coordinator {
namespace {

// Moves an OK result into the response, or maps the error.
template <typename T>
grpc::Status Answer(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpc(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status WorkerServiceImpl::RegisterWorker(grpc::ServerContext*,
                                               const v1::RegisterWorkerRequest* request,
                                               v1::RegisterWorkerResponse* response) {
  return Answer(coordinator_->RegisterWorker(*request), response);
}

grpc::Status WorkerServiceImpl::Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest* request,
                                          v1::HeartbeatResponse* response) {
  return Answer(coordinator_->Heartbeat(*request), response);
}

grpc::Status WorkerServiceImpl::ReportProgress(grpc::ServerContext*,
                                               const v1::ReportProgressRequest* request,
                                               v1::ReportProgressResponse* response) {
  return Answer(coordinator_->ReportProgress(*request), response);
}

grpc::Status WorkerServiceImpl::CompleteTask(grpc::ServerContext*,
                                             const v1::CompleteTaskRequest* request,
                                             v1::CompleteTaskResponse*) {
  return ToGrpc(coordinator_->CompleteTask(*request));
}

grpc::Status WorkerServiceImpl::DeregisterWorker(grpc::ServerContext*,
                                                 const v1::DeregisterWorkerRequest* request,
                                                 v1::DeregisterWorkerResponse*) {
  return ToGrpc(coordinator_->DeregisterWorker(*request));
}

}  // namespace simclr::coordinator
