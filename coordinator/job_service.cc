#include "coordinator/job_service.h"

#include <set>
#include <string>
#include <vector>

#include "common/grpc_status.h"
#include "coordinator/grpc_auth.h"

namespace simclr::coordinator {

#define AUTHORIZE_USER(caller)                                                    \
  absl::StatusOr<Principal> caller = AuthorizeCall(auth_, context, Role::kUser); \
  if (!caller.ok()) return ToGrpc(caller.status())

grpc::Status JobServiceImpl::SubmitJobs(grpc::ServerContext* context,
                                        const v1::SubmitJobsRequest* request,
                                        v1::SubmitJobsResponse* response) {
  AUTHORIZE_USER(caller);
  std::vector<v1::JobSpec> specs(request->specs().begin(), request->specs().end());
  absl::StatusOr<std::vector<std::string>> ids = coordinator_->SubmitJobs(specs, caller->name);
  if (!ids.ok()) return ToGrpc(ids.status());
  for (const std::string& id : *ids) response->add_job_ids(id);
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                                    v1::Job* response) {
  AUTHORIZE_USER(caller);
  absl::StatusOr<v1::Job> job = coordinator_->GetJob(request->job());
  if (!job.ok()) return ToGrpc(job.status());
  *response = *std::move(job);
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::ListJobs(grpc::ServerContext* context,
                                      const v1::ListJobsRequest* request,
                                      v1::ListJobsResponse* response) {
  AUTHORIZE_USER(caller);
  std::set<v1::JobState> states;
  for (int s : request->states()) states.insert(static_cast<v1::JobState>(s));
  for (v1::Job& job : coordinator_->ListJobs(states)) *response->add_jobs() = std::move(job);
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::CancelJob(grpc::ServerContext* context,
                                       const v1::CancelJobRequest* request, v1::Job* response) {
  AUTHORIZE_USER(caller);
  absl::StatusOr<v1::Job> job =
      coordinator_->CancelJob(request->job(), caller->name, caller->Has(Role::kAdmin));
  if (!job.ok()) return ToGrpc(job.status());
  *response = *std::move(job);
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::WatchJob(grpc::ServerContext* context,
                                      const v1::WatchJobRequest* request,
                                      grpc::ServerWriter<v1::Job>* writer) {
  AUTHORIZE_USER(caller);
  int64_t seen = 0;
  while (!context->IsCancelled()) {
    absl::StatusOr<Coordinator::Snapshot> snap =
        coordinator_->WaitForChange(request->job(), seen, watch_poll_);
    if (!snap.ok()) return ToGrpc(snap.status());
    if (snap->version > seen) {
      seen = snap->version;
      if (!writer->Write(snap->job)) break;  // the client went away
      if (IsFinal(snap->job.state())) return grpc::Status::OK;
    }
  }
  return grpc::Status(grpc::StatusCode::CANCELLED, "watch ended by the client");
}

grpc::Status JobServiceImpl::ListJobEvents(grpc::ServerContext* context,
                                           const v1::ListJobEventsRequest* request,
                                           v1::ListJobEventsResponse* response) {
  AUTHORIZE_USER(caller);
  absl::StatusOr<std::vector<v1::JobEvent>> events = coordinator_->ListJobEvents(request->job());
  if (!events.ok()) return ToGrpc(events.status());
  for (v1::JobEvent& event : *events) *response->add_events() = std::move(event);
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::ListWorkers(grpc::ServerContext* context,
                                         const v1::ListWorkersRequest*,
                                         v1::ListWorkersResponse* response) {
  AUTHORIZE_USER(caller);
  for (v1::Worker& w : coordinator_->ListWorkers()) *response->add_workers() = std::move(w);
  return grpc::Status::OK;
}

#undef AUTHORIZE_USER

}  // namespace simclr::coordinator
