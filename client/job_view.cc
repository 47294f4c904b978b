#include "client/job_view.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/timestamp.pb.h"

namespace simclr::client {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

View TimeView(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return View::Null();
  absl::Time time = absl::FromUnixSeconds(t.seconds()) +
                    absl::Nanoseconds(t.nanos());
  // RFC 3339 in UTC with a "Z" (absl's RFC3339_full prints "+00:00") and
  // only as many fractional digits as needed.
  return View::String(absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", time,
                                       absl::UTCTimeZone()));
}

View FieldValue(const Message& message, const FieldDescriptor& field,
                int index) {
  const Reflection& r = *message.GetReflection();
  const bool repeated = field.is_repeated();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return View::Number(repeated ? r.GetRepeatedInt32(message, &field, index)
                                   : r.GetInt32(message, &field));
    case FieldDescriptor::CPPTYPE_INT64:
      return View::Number(static_cast<double>(
          repeated ? r.GetRepeatedInt64(message, &field, index)
                   : r.GetInt64(message, &field)));
    case FieldDescriptor::CPPTYPE_UINT32:
      return View::Number(repeated
                              ? r.GetRepeatedUInt32(message, &field, index)
                              : r.GetUInt32(message, &field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return View::Number(static_cast<double>(
          repeated ? r.GetRepeatedUInt64(message, &field, index)
                   : r.GetUInt64(message, &field)));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return View::Number(repeated ? r.GetRepeatedFloat(message, &field, index)
                                   : r.GetFloat(message, &field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return View::Number(repeated
                              ? r.GetRepeatedDouble(message, &field, index)
                              : r.GetDouble(message, &field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return View::Bool(repeated ? r.GetRepeatedBool(message, &field, index)
                                 : r.GetBool(message, &field));
    case FieldDescriptor::CPPTYPE_STRING:
      return View::String(repeated
                              ? r.GetRepeatedString(message, &field, index)
                              : r.GetString(message, &field));
    case FieldDescriptor::CPPTYPE_ENUM:
      return View::String(
          (repeated ? r.GetRepeatedEnum(message, &field, index)
                    : r.GetEnum(message, &field))
              ->name());
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& sub = repeated
                               ? r.GetRepeatedMessage(message, &field, index)
                               : r.GetMessage(message, &field);
      if (sub.GetDescriptor() ==
          google::protobuf::Timestamp::descriptor()) {
        return TimeView(static_cast<const google::protobuf::Timestamp&>(sub));
      }
      return MessageView(sub);
    }
  }
  return View::Null();
}

std::string Text(const View* view) {
  if (view == nullptr) return "-";
  switch (view->type()) {
    case View::Type::kString:
      return view->string_value().empty() ? "-" : view->string_value();
    case View::Type::kNumber:
      return absl::StrCat(view->number_value());
    case View::Type::kBool:
      return view->bool_value() ? "true" : "false";
    default:
      return "-";
  }
}

double Number(const View* view) {
  return view != nullptr && view->type() == View::Type::kNumber
             ? view->number_value()
             : 0;
}

std::string AgeSince(const View* timestamp, absl::Time now) {
  if (timestamp == nullptr || timestamp->type() != View::Type::kString) {
    return "-";
  }
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, timestamp->string_value(), &t,
                       &error)) {
    return "-";
  }
  return FormatAge(now - t);
}

std::string ProgressText(const View* progress) {
  if (progress == nullptr) return "-";
  double step = Number(progress->Find("step"));
  double total = Number(progress->Find("total_steps"));
  if (total <= 0) return step > 0 ? absl::StrCat(step) : "-";
  return absl::StrFormat("%.0f/%.0f (%.0f%%)", step, total,
                         std::min(100.0, 100.0 * step / total));
}

// Columns padded to their widest cell, three spaces apart, no trailing blanks.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 3, ' ');
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

View ListOf(const std::vector<View>& views) {
  View list = View::List();
  for (const View& v : views) list.Append(v);
  return list;
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text) {
  if (text == "table") return OutputFormat::kTable;
  if (text == "json") return OutputFormat::kJson;
  if (text == "yaml") return OutputFormat::kYaml;
  return absl::InvalidArgumentError(absl::StrFormat(
      "-o: unknown output format \"%s\"; expected table, json or yaml", text));
}

std::string JobStateName(v1::JobState state) {
  if (state == v1::JOB_STATE_UNSPECIFIED) return "UNKNOWN";
  const std::string& name = v1::JobState_Name(state);
  return name.empty() ? "UNKNOWN" : name;
}

View MessageView(const Message& message) {
  View object = View::Object();
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->is_map()) {
      View map = View::Object();
      const Reflection& r = *message.GetReflection();
      for (int i = 0; i < r.FieldSize(message, field); ++i) {
        const Message& entry = r.GetRepeatedMessage(message, field, i);
        const FieldDescriptor* key = entry.GetDescriptor()->map_key();
        const FieldDescriptor* value = entry.GetDescriptor()->map_value();
        const View key_view = FieldValue(entry, *key, 0);
        map.Set(Text(&key_view), FieldValue(entry, *value, 0));
      }
      object.Set(field->name(), std::move(map));
    } else if (field->is_repeated()) {
      View list = View::List();
      int size = message.GetReflection()->FieldSize(message, field);
      for (int i = 0; i < size; ++i) {
        list.Append(FieldValue(message, *field, i));
      }
      object.Set(field->name(), std::move(list));
    } else {
      object.Set(field->name(), FieldValue(message, *field, 0));
    }
  }
  return object;
}

View JobView(const v1::Job& job) {
  View workers = View::List();
  for (const std::string& id : job.workers()) workers.Append(View::String(id));
  View avoided = View::List();
  for (const std::string& id : job.avoided_workers()) avoided.Append(View::String(id));
  View progress = View::Object();
  progress.Set("step", View::Number(job.progress().step()))
      .Set("total_steps", View::Number(job.progress().total_steps()))
      .Set("epoch", View::Number(job.progress().epoch()));
  // Sorted by name: the map's own order is unspecified.
  std::vector<std::string> names;
  for (const auto& metric : job.metrics()) names.push_back(metric.first);
  std::sort(names.begin(), names.end());
  View metrics = View::Object();
  for (const std::string& name : names) {
    metrics.Set(name, View::Number(job.metrics().at(name)));
  }
  const v1::JobSpec& spec = job.spec();
  View view = View::Object();
  view.Set("id", View::String(job.id()))
      .Set("name", View::String(spec.name()))
      .Set("kind", View::String(spec.kind()))
      .Set("state", View::String(JobStateName(job.state())))
      .Set("reason", View::String(job.reason()))
      .Set("attempts", View::Number(job.attempts()))
      .Set("restarts", View::Number(job.restarts()))
      // Unset means the coordinator's default of one worker.
      .Set("world_size",
           View::Number(spec.has_world_size() ? spec.world_size() : 1))
      .Set("workers", std::move(workers))
      .Set("avoided_workers", std::move(avoided))
      .Set("progress", std::move(progress))
      .Set("metrics", std::move(metrics))
      .Set("priority", View::Number(spec.priority()))
      .Set("parent", View::String(spec.parent()))
      .Set("teacher", View::String(spec.teacher()))
      .Set("parent_id", View::String(job.parent_id()))
      .Set("created_at", TimeView(job.created_at()))
      .Set("queued_at", TimeView(job.queued_at()))
      .Set("started_at", TimeView(job.started_at()))
      .Set("finished_at", TimeView(job.finished_at()))
      .Set("artifact_dir", View::String(job.artifact_dir()))
      .Set("submitted_by", View::String(job.submitted_by()))
      .Set("checkpoint", View::String(job.checkpoint()))
      .Set("spec", MessageView(spec));
  return view;
}

View WorkerView(const v1::Worker& worker) {
  std::string state = v1::WorkerState_Name(worker.state());
  if (worker.state() == v1::WORKER_STATE_UNSPECIFIED || state.empty()) {
    state = "UNKNOWN";
  }
  View view = View::Object();
  view.Set("id", View::String(worker.id()))
      .Set("hostname", View::String(worker.hostname()))
      .Set("device_kind", View::String(worker.device_kind()))
      .Set("device_count", View::Number(worker.device_count()))
      .Set("memory_bytes", View::Number(worker.memory_bytes()))
      .Set("device_name", View::String(worker.device_name()))
      .Set("device_memory_bytes", View::Number(worker.device_memory_bytes()))
      .Set("collective_address", View::String(worker.collective_address()))
      .Set("state", View::String(state))
      .Set("job_id", View::String(worker.job_id()))
      .Set("rank", View::Number(worker.rank()))
      .Set("registered_at", TimeView(worker.registered_at()))
      .Set("last_heartbeat", TimeView(worker.last_heartbeat()))
      .Set("consecutive_failures", View::Number(worker.consecutive_failures()))
      .Set("unhealthy", View::Bool(worker.unhealthy()));
  return view;
}

std::string FormatAge(absl::Duration age) {
  if (age < absl::ZeroDuration()) return "-";
  int64_t seconds = absl::ToInt64Seconds(age);
  if (seconds < 120) return absl::StrCat(seconds, "s");
  if (seconds < 120 * 60) return absl::StrCat(seconds / 60, "m");
  if (seconds < 48 * 3600) return absl::StrCat(seconds / 3600, "h");
  return absl::StrCat(seconds / 86400, "d");
}

std::string FormatJobTable(const std::vector<View>& jobs, absl::Time now) {
  std::vector<std::vector<std::string>> rows = {
      {"ID", "NAME", "KIND", "STATE", "PROGRESS", "AGE"}};
  for (const View& job : jobs) {
    rows.push_back({Text(job.Find("id")), Text(job.Find("name")),
                    Text(job.Find("kind")), Text(job.Find("state")),
                    ProgressText(job.Find("progress")),
                    AgeSince(job.Find("created_at"), now)});
  }
  return Table(rows);
}

std::string FormatWorkerTable(const std::vector<View>& workers,
                              absl::Time now) {
  std::vector<std::vector<std::string>> rows = {
      {"ID", "DEVICE", "STATE", "JOB", "RANK", "LAST HEARTBEAT"}};
  for (const View& worker : workers) {
    std::string device = Text(worker.Find("device_kind"));
    double count = Number(worker.Find("device_count"));
    if (count > 1) absl::StrAppend(&device, " x", count);
    // A GPU worker says which GPU: "cuda (NVIDIA H200, 140 GiB)".
    const std::string name = Text(worker.Find("device_name"));
    const double memory = Number(worker.Find("device_memory_bytes"));
    if (device == "cuda" && name != "-" && memory > 0) {
      absl::StrAppend(&device, " (", name, ", ", std::llround(memory / (1 << 30)), " GiB)");
    }
    std::string job = Text(worker.Find("job_id"));
    std::string rank = job == "-" ? "-" : Text(worker.Find("rank"));
    std::string heartbeat = AgeSince(worker.Find("last_heartbeat"), now);
    if (heartbeat != "-") heartbeat += " ago";
    // A worker that keeps failing says so: "IDLE, unhealthy (3 failures)".
    std::string state = Text(worker.Find("state"));
    const View* unhealthy = worker.Find("unhealthy");
    if (unhealthy != nullptr && unhealthy->type() == View::Type::kBool &&
        unhealthy->bool_value()) {
      absl::StrAppend(&state, ", unhealthy (",
                      std::llround(Number(worker.Find("consecutive_failures"))), " failures)");
    }
    rows.push_back({Text(worker.Find("id")), device, state, job, rank, heartbeat});
  }
  return Table(rows);
}

namespace {

// `view` as JSON or YAML, or `table()` for the table format.
template <typename Table>
std::string FormatAs(const View& view, OutputFormat format, Table table) {
  switch (format) {
    case OutputFormat::kJson:
      return FormatJson(view);
    case OutputFormat::kYaml:
      return FormatYaml(view);
    case OutputFormat::kTable:
      break;
  }
  return table();
}

}  // namespace

std::string FormatJob(const v1::Job& job, OutputFormat format, absl::Time now) {
  View view = JobView(job);
  return FormatAs(view, format, [&] { return FormatJobTable({view}, now); });
}

std::string FormatJobs(const std::vector<v1::Job>& jobs, OutputFormat format, absl::Time now) {
  std::vector<View> views;
  for (const v1::Job& job : jobs) views.push_back(JobView(job));
  return FormatAs(ListOf(views), format, [&] { return FormatJobTable(views, now); });
}

std::string FormatWorkers(const std::vector<v1::Worker>& workers, OutputFormat format,
                          absl::Time now) {
  std::vector<View> views;
  for (const v1::Worker& worker : workers) views.push_back(WorkerView(worker));
  return FormatAs(ListOf(views), format, [&] { return FormatWorkerTable(views, now); });
}

}  // namespace simclr::client
