// What a worker runs: the interface between the agent (RPC, leases) and the
// trainers (model/ code). The agent knows nothing of training; a runner knows
// nothing of gRPC.
#ifndef SIMCLR_WORKER_TASK_RUNNER_H_
#define SIMCLR_WORKER_TASK_RUNNER_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "proto/simclr/v1/job.pb.h"
#include "proto/simclr/v1/worker.pb.h"

namespace simclr::worker {

// Handed to a running task. Thread-safe.
class TaskContext {
 public:
  virtual ~TaskContext() = default;

  // True once the task must stop: the job was cancelled or restarted, or the
  // worker is shutting down. Runners check it between steps.
  virtual bool cancelled() const = 0;

  // Reports progress and the latest metric values (loss, lr,
  // images_per_second, ...). `checkpoint` is set when a new good checkpoint
  // was written. Cheap to call every step: the agent rate-limits the RPCs, but
  // always sends reports that carry a checkpoint.
  virtual void Report(const v1::Progress& progress, const std::map<std::string, double>& metrics,
                      const std::string& checkpoint = "") = 0;

  // Something the job's events should record, such as a fallback to an
  // older checkpoint. Sent at once (with the latest progress, if any); only
  // rank 0's notes are recorded.
  virtual void Note(const std::string& what) = 0;
};

struct TaskResult {
  std::string checkpoint;                 // final checkpoint (rank 0)
  std::map<std::string, double> metrics;  // final metrics, e.g. top1, top5
};

// True for a failure that another attempt cannot fix: the job's own input is
// wrong (InvalidArgument, NotFound, FailedPrecondition, OutOfRange,
// PermissionDenied). Lost peers, timeouts, crashes and out-of-memory
// (Unavailable, DeadlineExceeded, Internal, ResourceExhausted, ...) are worth
// a restart.
inline bool IsPermanentFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kPermissionDenied:
      return true;
    default:
      return false;
  }
}

// Runs one task to the end. Implementations are used by one task at a time.
class TaskRunner {
 public:
  virtual ~TaskRunner() = default;

  // Returns the result, or an error saying why the task failed. A cancelled
  // task returns CancelledError.
  virtual absl::StatusOr<TaskResult> Run(const v1::TaskAssignment& task, TaskContext& context) = 0;
};

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_TASK_RUNNER_H_
