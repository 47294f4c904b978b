// gRPC adapter for simclr.v1.WorkerService: authorizes the caller (role
// worker, and only for the worker ids it registered), translates protos and
// calls the Coordinator; no logic of its own.
#ifndef SIMCLR_COORDINATOR_WORKER_SERVICE_H_
#define SIMCLR_COORDINATOR_WORKER_SERVICE_H_

#include "coordinator/auth.h"
#include "coordinator/coordinator.h"
#include "proto/simclr/v1/worker.grpc.pb.h"

namespace simclr::coordinator {

// Thread-safe (the Coordinator is).
class WorkerServiceImpl final : public v1::WorkerService::Service {
 public:
  // `auth` null: insecure mode (loopback, tests). Neither is owned.
  explicit WorkerServiceImpl(Coordinator* coordinator, const Authenticator* auth = nullptr)
      : coordinator_(coordinator), auth_(auth) {}

  grpc::Status RegisterWorker(grpc::ServerContext* context, const v1::RegisterWorkerRequest* request,
                              v1::RegisterWorkerResponse* response) override;
  grpc::Status Heartbeat(grpc::ServerContext* context, const v1::HeartbeatRequest* request,
                         v1::HeartbeatResponse* response) override;
  grpc::Status ReportProgress(grpc::ServerContext* context, const v1::ReportProgressRequest* request,
                              v1::ReportProgressResponse* response) override;
  grpc::Status CompleteTask(grpc::ServerContext* context, const v1::CompleteTaskRequest* request,
                            v1::CompleteTaskResponse* response) override;
  grpc::Status DeregisterWorker(grpc::ServerContext* context,
                                const v1::DeregisterWorkerRequest* request,
                                v1::DeregisterWorkerResponse* response) override;

 private:
  // The caller, if it holds the worker role and registered `worker_id`.
  absl::StatusOr<Principal> Authorize(grpc::ServerContext* context,
                                      const std::string& worker_id) const;

  Coordinator* const coordinator_;
  const Authenticator* const auth_;
};

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_WORKER_SERVICE_H_
