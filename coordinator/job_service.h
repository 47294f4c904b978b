// gRPC adapter for simclr.v1.JobService: authorizes the caller (role user),
// translates protos and calls the Coordinator; no logic of its own.
#ifndef SIMCLR_COORDINATOR_JOB_SERVICE_H_
#define SIMCLR_COORDINATOR_JOB_SERVICE_H_

#include "absl/time/time.h"
#include "coordinator/auth.h"
#include "coordinator/coordinator.h"
#include "proto/simclr/v1/coordinator.grpc.pb.h"

namespace simclr::coordinator {

// Thread-safe (the Coordinator is).
class JobServiceImpl final : public v1::JobService::Service {
 public:
  // `auth` null: insecure mode (loopback, tests). Neither is owned.
  explicit JobServiceImpl(Coordinator* coordinator,
                          absl::Duration watch_poll = absl::Seconds(1),
                          const Authenticator* auth = nullptr)
      : coordinator_(coordinator), watch_poll_(watch_poll), auth_(auth) {}

  grpc::Status SubmitJobs(grpc::ServerContext* context, const v1::SubmitJobsRequest* request,
                          v1::SubmitJobsResponse* response) override;
  grpc::Status GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                      v1::Job* response) override;
  grpc::Status ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override;
  grpc::Status CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                         v1::Job* response) override;
  grpc::Status WatchJob(grpc::ServerContext* context, const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::Job>* writer) override;
  grpc::Status ListWorkers(grpc::ServerContext* context, const v1::ListWorkersRequest* request,
                           v1::ListWorkersResponse* response) override;
  grpc::Status ListJobEvents(grpc::ServerContext* context,
                             const v1::ListJobEventsRequest* request,
                             v1::ListJobEventsResponse* response) override;
  grpc::Status DeleteJob(grpc::ServerContext* context, const v1::DeleteJobRequest* request,
                         v1::DeleteJobResponse* response) override;
  // Streams a trainer's log from the artifact directory (which the
  // coordinator must see, as it does for checkpoints); with follow, until
  // the job is final and every later attempt's log is read.
  grpc::Status GetJobLogs(grpc::ServerContext* context, const v1::GetJobLogsRequest* request,
                          grpc::ServerWriter<v1::LogChunk>* writer) override;
  grpc::Status GetJobMetrics(grpc::ServerContext* context, const v1::GetJobMetricsRequest* request,
                             v1::JobMetrics* response) override;

 private:
  Coordinator* const coordinator_;
  // How often a watch or log stream checks whether its client went away
  // (and a followed log, whether its trainer wrote more).
  const absl::Duration watch_poll_;
  const Authenticator* const auth_;
};

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_JOB_SERVICE_H_
