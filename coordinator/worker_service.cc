#include "coordinator/worker_service.h"

#include "common/grpc_status.h"
#include "coordinator/grpc_auth.h"

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

absl::StatusOr<Principal> WorkerServiceImpl::Authorize(grpc::ServerContext* context,
                                                       const std::string& worker_id) const {
  absl::StatusOr<Principal> caller = AuthorizeCall(auth_, context, Role::kWorker);
  if (!caller.ok()) return caller.status();
  absl::Status speaks = coordinator_->CheckSpeaksFor(worker_id, caller->name);
  if (!speaks.ok()) return speaks;
  return caller;
}

grpc::Status WorkerServiceImpl::RegisterWorker(grpc::ServerContext* context,
                                               const v1::RegisterWorkerRequest* request,
                                               v1::RegisterWorkerResponse* response) {
  absl::StatusOr<Principal> caller = AuthorizeCall(auth_, context, Role::kWorker);
  if (!caller.ok()) return ToGrpc(caller.status());
  return Answer(coordinator_->RegisterWorker(*request, caller->name), response);
}

grpc::Status WorkerServiceImpl::Heartbeat(grpc::ServerContext* context,
                                          const v1::HeartbeatRequest* request,
                                          v1::HeartbeatResponse* response) {
  absl::StatusOr<Principal> caller = Authorize(context, request->worker_id());
  if (!caller.ok()) return ToGrpc(caller.status());
  return Answer(coordinator_->Heartbeat(*request), response);
}

grpc::Status WorkerServiceImpl::ReportProgress(grpc::ServerContext* context,
                                               const v1::ReportProgressRequest* request,
                                               v1::ReportProgressResponse* response) {
  absl::StatusOr<Principal> caller = Authorize(context, request->worker_id());
  if (!caller.ok()) return ToGrpc(caller.status());
  return Answer(coordinator_->ReportProgress(*request), response);
}

grpc::Status WorkerServiceImpl::CompleteTask(grpc::ServerContext* context,
                                             const v1::CompleteTaskRequest* request,
                                             v1::CompleteTaskResponse*) {
  absl::StatusOr<Principal> caller = Authorize(context, request->worker_id());
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(coordinator_->CompleteTask(*request));
}

grpc::Status WorkerServiceImpl::DeregisterWorker(grpc::ServerContext* context,
                                                 const v1::DeregisterWorkerRequest* request,
                                                 v1::DeregisterWorkerResponse*) {
  absl::StatusOr<Principal> caller = Authorize(context, request->worker_id());
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(coordinator_->DeregisterWorker(*request));
}

}  // namespace simclr::coordinator
