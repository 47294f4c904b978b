// What `simclrctl get` shows: Jobs and Workers as Views, and the three
// output formats (table, JSON, YAML) rendered from those Views.
//
// A job's view (the JSON contract of `get job -o json`), in this order:
//   id, name, kind, state (PENDING | QUEUED | RUNNING | SUCCEEDED | FAILED |
//   CANCELLED), reason, attempts, world_size, workers (ids by rank),
//   progress {step, total_steps, epoch}, metrics (name -> latest number),
//   priority, parent, teacher, parent_id (the id parent/teacher resolved to),
//   created_at, queued_at, started_at, finished_at (RFC 3339 in UTC, null
//   when unset), artifact_dir, checkpoint, spec (the JobSpec's set fields, by
//   proto field name).
// A worker's view: id, hostname, device_kind, device_count, memory_bytes,
//   collective_address, state (IDLE | BUSY | LOST | DRAINED), job_id, rank,
//   registered_at, last_heartbeat.
#ifndef SIMCLR_CLIENT_JOB_VIEW_H_
#define SIMCLR_CLIENT_JOB_VIEW_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/view.h"
#include "google/protobuf/message.h"
#include "proto/simclr/v1/job.pb.h"
#include "proto/simclr/v1/worker.pb.h"

namespace simclr::client {

enum class OutputFormat { kTable, kJson, kYaml };

// "table", "json" or "yaml"; else InvalidArgument naming the value and the
// choices.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text);

// "SUCCEEDED" etc.; "UNKNOWN" for the unspecified state.
std::string JobStateName(v1::JobState state);

// The fields of `message` that are set, by proto field name, in field order;
// nested messages as objects, enums by name, every number as a number.
View MessageView(const google::protobuf::Message& message);

View JobView(const v1::Job& job);
View WorkerView(const v1::Worker& worker);

// Aligned tables with a header row, from views made by JobView/WorkerView.
// `now` is only used for the age columns.
//   jobs:    ID  NAME  KIND  STATE  PROGRESS  AGE
//   workers: ID  DEVICE  STATE  JOB  RANK  LAST HEARTBEAT
std::string FormatJobTable(const std::vector<View>& jobs, absl::Time now);
std::string FormatWorkerTable(const std::vector<View>& workers,
                              absl::Time now);

// One job (a JSON object / YAML mapping / one-row table).
std::string FormatJob(const v1::Job& job, OutputFormat format, absl::Time now);
// Many (a JSON array / YAML sequence / table).
std::string FormatJobs(const std::vector<v1::Job>& jobs, OutputFormat format,
                       absl::Time now);
std::string FormatWorkers(const std::vector<v1::Worker>& workers,
                          OutputFormat format, absl::Time now);

// A short age such as "45s", "12m", "5h", "3d"; "-" for a negative duration.
std::string FormatAge(absl::Duration age);

}  // namespace simclr::client

#endif  // SIMCLR_CLIENT_JOB_VIEW_H_
