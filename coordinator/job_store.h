// Durable storage of jobs. The coordinator writes every transition through a
// JobStore before acknowledging it, so a restart recovers every job.
#ifndef SIMCLR_COORDINATOR_JOB_STORE_H_
#define SIMCLR_COORDINATOR_JOB_STORE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/simclr/v1/job.pb.h"

namespace simclr::coordinator {

// Implementations must be thread-safe.
class JobStore {
 public:
  virtual ~JobStore() = default;

  // Every stored job, oldest first.
  virtual absl::StatusOr<std::vector<v1::Job>> LoadAll() = 0;

  // Inserts or replaces `jobs` (keyed by id) and appends `events` in one
  // atomic, durable commit: when it returns OK all of them survive a crash;
  // on error nothing changed.
  virtual absl::Status Put(const std::vector<v1::Job>& jobs,
                           const std::vector<v1::JobEvent>& events) = 0;
  absl::Status Put(const std::vector<v1::Job>& jobs) { return Put(jobs, {}); }

  // Removes the jobs `ids` and their events in one atomic, durable commit;
  // unknown ids are skipped. On error nothing changed.
  virtual absl::Status Delete(const std::vector<std::string>& ids) = 0;
  // The events of job `id`, oldest first (none for an unknown id).
  virtual absl::StatusOr<std::vector<v1::JobEvent>> LoadEvents(const std::string& id) = 0;
};

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_JOB_STORE_H_
