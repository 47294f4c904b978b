// The files a job's trainers write under its artifact directory, read as the
// coordinator serves them (simclrctl logs, simclrctl get job --metrics):
// trainer output and rank 0's step log. The layout is
// model/checkpoint/checkpoint_files.h's. Read-only free functions, safe to
// call from any thread; a writer appending meanwhile is fine.
#ifndef SIMCLR_COORDINATOR_JOB_FILES_H_
#define SIMCLR_COORDINATOR_JOB_FILES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "proto/simclr/v1/coordinator.pb.h"

namespace simclr::coordinator {

// Up to `max_bytes` of the file at `path` from byte `offset`: "" at its end
// and while the file does not exist yet. Internal for any other read error.
absl::StatusOr<std::string> ReadFileFrom(const std::string& path, int64_t offset,
                                         size_t max_bytes);

// Rank 0's step logs of attempts 1..attempts as one curve (JobMetrics'
// contract: ascending by step, a redone step as its latest attempt ran it).
// Lines that are not a JSON object with a numeric "step" are skipped (a
// trainer killed mid-line leaves a torn one); a missing log is empty.
// Numeric fields other than step and epoch become values.
absl::StatusOr<v1::JobMetrics> ReadJobMetrics(const std::string& artifact_dir, int attempts);

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_JOB_FILES_H_
