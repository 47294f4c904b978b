#include "coordinator/job_service.h"

#include <set>
#include <string>
#include <vector>

#include "common/grpc_status.h"
#include "coordinator/grpc_auth.h"
#include "coordinator/job_files.h"
#include "model/checkpoint/checkpoint_files.h"

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
  for (const std::string& id : *ids) {
    response->add_job_ids(id);
    // As stored, or as scheduling has moved it on since.
    absl::StatusOr<v1::Job> job = coordinator_->GetJob(id);
    if (job.ok()) *response->add_jobs() = *std::move(job);
  }
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
  absl::StatusOr<v1::ListJobsResponse> page = coordinator_->ListJobsPage(*request);
  if (!page.ok()) return ToGrpc(page.status());
  *response = *std::move(page);
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

grpc::Status JobServiceImpl::DeleteJob(grpc::ServerContext* context,
                                       const v1::DeleteJobRequest* request, v1::DeleteJobResponse*) {
  AUTHORIZE_USER(caller);
  return ToGrpc(coordinator_->DeleteJob(request->job(), request->cancel(), caller->name,
                                        caller->Has(Role::kAdmin)));
}

grpc::Status JobServiceImpl::GetJobLogs(grpc::ServerContext* context,
                                        const v1::GetJobLogsRequest* request,
                                        grpc::ServerWriter<v1::LogChunk>* writer) {
  AUTHORIZE_USER(caller);
  absl::StatusOr<Coordinator::Snapshot> snap = coordinator_->WaitForChange(request->job(), 0, {});
  if (!snap.ok()) return ToGrpc(snap.status());
  const v1::Job& job = snap->job;
  const int world_size = job.spec().world_size();
  if (request->rank() < 0 || request->rank() >= world_size) {
    return ToGrpc(absl::InvalidArgumentError(absl::StrCat(
        "rank: got ", request->rank(), ", expected 0 to ", world_size - 1, " (job ", job.id(),
        " runs ", world_size, " rank", world_size == 1 ? "" : "s", ")")));
  }
  if (request->attempt() < 0 || request->attempt() > job.attempts()) {
    return ToGrpc(absl::InvalidArgumentError(absl::StrCat(
        "attempt: got ", request->attempt(), ", expected 0 (the latest) to ", job.attempts(),
        " (job ", job.id(), " has started ", job.attempts(), " attempt(s))")));
  }
  if (job.attempts() == 0 && !request->follow()) {
    return ToGrpc(absl::FailedPreconditionError(absl::StrCat(
        "job ", job.id(), " is ", v1::JobState_Name(job.state()),
        " and has not started: no logs yet (--follow waits for them)")));
  }
  // Read to the end of the attempt's log; when following, wait for the job
  // to change (new output is reported with progress) and read again, going
  // on into later attempts, until the job is final and its log drained.
  int attempt = request->attempt() > 0 ? request->attempt() : std::max(job.attempts(), 1);
  int64_t offset = 0;
  int64_t version = snap->version;
  bool final = IsFinal(job.state());
  int latest_attempt = job.attempts();
  constexpr size_t kChunkBytes = 64 << 10;
  while (!context->IsCancelled()) {
    const std::string path = model::RankLogPath(job.artifact_dir(), attempt, request->rank());
    absl::StatusOr<std::string> data = ReadFileFrom(path, offset, kChunkBytes);
    if (!data.ok()) return ToGrpc(data.status());
    if (!data->empty()) {
      offset += static_cast<int64_t>(data->size());
      v1::LogChunk chunk;
      chunk.set_attempt(attempt);
      chunk.set_data(*std::move(data));
      if (!writer->Write(chunk)) break;  // the client went away
      continue;
    }
    if (!request->follow()) return grpc::Status::OK;
    // Read to its end after the job last changed: this attempt's log is complete.
    if (attempt < latest_attempt || final) {
      if (request->attempt() > 0 || attempt >= latest_attempt) return grpc::Status::OK;
      ++attempt;
      offset = 0;
      continue;
    }
    absl::StatusOr<Coordinator::Snapshot> next =
        coordinator_->WaitForChange(job.id(), version, watch_poll_);
    if (!next.ok()) return ToGrpc(next.status());
    version = next->version;
    latest_attempt = next->job.attempts();
    final = IsFinal(next->job.state());
  }
  return grpc::Status(grpc::StatusCode::CANCELLED, "logs ended by the client");
}

grpc::Status JobServiceImpl::GetJobMetrics(grpc::ServerContext* context,
                                           const v1::GetJobMetricsRequest* request,
                                           v1::JobMetrics* response) {
  AUTHORIZE_USER(caller);
  absl::StatusOr<v1::Job> job = coordinator_->GetJob(request->job());
  if (!job.ok()) return ToGrpc(job.status());
  absl::StatusOr<v1::JobMetrics> metrics = ReadJobMetrics(job->artifact_dir(), job->attempts());
  if (!metrics.ok()) return ToGrpc(metrics.status());
  *response = *std::move(metrics);
  return grpc::Status::OK;
}

#undef AUTHORIZE_USER

}  // namespace simclr::coordinator
