// What simclrctl prints for API objects: tables for people, and the objects
// themselves for programs.
//
// `-o json` is protobuf's JSON mapping of the API message (a Job, or a
// ListJobsResponse for `get jobs`), with the proto field names (snake_case)
// and every scalar field printed, zero or not: the same document grpcurl
// prints with -emit-defaults, up to key style. As the mapping says, 64-bit
// integers are strings ("step": "40") and timestamps RFC 3339 in UTC.
// `-o yaml` is that same document as YAML, quoting the strings that would
// read back as another type. `-o name` prints one name a line (a job's id if
// it has none, a worker's id), for scripts and shell completion.
#ifndef SIMCLR_CLIENT_OUTPUT_H_
#define SIMCLR_CLIENT_OUTPUT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "proto/simclr/v1/coordinator.pb.h"
#include "proto/simclr/v1/job.pb.h"
#include "proto/simclr/v1/worker.pb.h"

namespace simclr::client {

enum class OutputFormat { kTable, kWide, kJson, kYaml, kName };

// The names accepted by -o, in the order help lists them.
inline constexpr const char* kOutputFormatNames[] = {"table", "wide", "json", "yaml", "name"};

// One of kOutputFormatNames; else InvalidArgument naming the value and the
// choices.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text);

// "SUCCEEDED" etc.; "UNKNOWN" for the unspecified state.
std::string JobStateName(v1::JobState state);

// A JobState from its name, any case ("running"); InvalidArgument naming the
// value and the states otherwise.
absl::StatusOr<v1::JobState> ParseJobState(absl::string_view text);

// The message in protobuf's JSON mapping, as described above, indented by two
// spaces, with a trailing newline. `defaults` false leaves out the scalar
// fields at their zero value (as a person wrote the spec).
std::string ToJson(const google::protobuf::Message& message, bool defaults = true);

// The same document as YAML block text with a trailing newline.
std::string ToYaml(const google::protobuf::Message& message, bool defaults = true);

// A short age such as "45s", "12m", "5h", "3d"; "-" for a negative duration.
std::string FormatAge(absl::Duration age);

// Aligned tables with a header row; `now` only feeds the age columns.
//   jobs:    ID  NAME  KIND  STATE  PROGRESS  AGE  REASON
//   wide:    ... WORLD  WORKERS  ATTEMPTS  PARENT  TOP1  LABELS  REASON (whole)
//   workers: ID  DEVICE  STATE  JOB  RANK  LAST HEARTBEAT  (wide: HOST, ADDRESS)
// REASON says why a job waits or how it ended; the narrow table cuts it.
std::string FormatJobTable(const std::vector<v1::Job>& jobs, bool wide, absl::Time now);
std::string FormatWorkerTable(const std::vector<v1::Worker>& workers, bool wide,
                              absl::Time now);

// One job, or a page of jobs, or the workers, in `format`.
std::string FormatJob(const v1::Job& job, OutputFormat format, absl::Time now);
std::string FormatJobs(const v1::ListJobsResponse& page, OutputFormat format, absl::Time now);
std::string FormatWorkers(const v1::ListWorkersResponse& workers, OutputFormat format,
                          absl::Time now);
// A training curve: STEP, EPOCH and a column per value name, sorted (kName
// prints the value names).
std::string FormatJobMetrics(const v1::JobMetrics& metrics, OutputFormat format);

}  // namespace simclr::client

#endif  // SIMCLR_CLIENT_OUTPUT_H_
