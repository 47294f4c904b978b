#include "client/output.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/yaml_scalar.h"
#include "common/time_util.h"
#include "google/protobuf/util/json_util.h"
#include "yaml-cpp/yaml.h"

namespace simclr::client {
namespace {

// The narrow table cuts reasons to this many characters.
constexpr size_t kNarrowReasonWidth = 60;

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

// What `-o name` prints of a job: its name, or its id if it has none.
std::string NameOf(const v1::Job& job) {
  return job.spec().name().empty() ? job.id() : job.spec().name();
}

std::string AgeSince(const google::protobuf::Timestamp& t, absl::Time now) {
  if (t.seconds() == 0 && t.nanos() == 0) return "-";
  return FormatAge(now - FromProto(t));
}

std::string ProgressText(const v1::Progress& progress) {
  if (progress.total_steps() <= 0) return progress.step() > 0 ? absl::StrCat(progress.step()) : "-";
  return absl::StrFormat("%d/%d (%.0f%%)", progress.step(), progress.total_steps(),
                         std::min(100.0, 100.0 * progress.step() / progress.total_steps()));
}

std::string Cut(const std::string& text, size_t width) {
  if (text.size() <= width) return text;
  return absl::StrCat(text.substr(0, width - 3), "...");
}

// Columns padded to their widest cell, three spaces apart, no trailing blanks.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
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

void EmitYaml(const YAML::Node& node, YAML::Emitter& out) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      if (node.size() == 0) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& entry : node) {
        out << YAML::Key << entry.first.Scalar() << YAML::Value;
        EmitYaml(entry.second, out);
      }
      out << YAML::EndMap;
      return;
    case YAML::NodeType::Sequence:
      if (node.size() == 0) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const YAML::Node& item : node) EmitYaml(item, out);
      out << YAML::EndSeq;
      return;
    case YAML::NodeType::Scalar:
      // A JSON string ("!": quoted) that would read back as a number, a
      // boolean or null stays quoted; JSON's numbers and booleans are plain.
      if (node.Tag() == "!" && ResolvePlainScalar(node.Scalar()) != ScalarKind::kString) {
        out << YAML::DoubleQuoted;
      }
      out << node.Scalar();
      return;
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out << YAML::Null;
      return;
  }
}

// kJson or kYaml of any API message.
template <typename Message>
std::string FormatAs(const Message& message, OutputFormat format) {
  return format == OutputFormat::kYaml ? ToYaml(message) : ToJson(message);
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text) {
  static const std::map<std::string, OutputFormat, std::less<>> kFormats = {
      {"table", OutputFormat::kTable}, {"wide", OutputFormat::kWide},
      {"json", OutputFormat::kJson},   {"yaml", OutputFormat::kYaml},
      {"name", OutputFormat::kName}};
  auto it = kFormats.find(text);
  if (it != kFormats.end()) return it->second;
  return absl::InvalidArgumentError(absl::StrFormat(
      "-o: unknown output format \"%s\"; expected %s", text,
      absl::StrJoin(kOutputFormatNames, ", ")));
}

std::string JobStateName(v1::JobState state) {
  if (state == v1::JOB_STATE_UNSPECIFIED) return "UNKNOWN";
  const std::string& name = v1::JobState_Name(state);
  return name.empty() ? "UNKNOWN" : name;
}

absl::StatusOr<v1::JobState> ParseJobState(absl::string_view text) {
  v1::JobState state;
  if (v1::JobState_Parse(absl::AsciiStrToUpper(text), &state) &&
      state != v1::JOB_STATE_UNSPECIFIED) {
    return state;
  }
  std::vector<std::string> names;
  for (int s = v1::JobState_MIN + 1; s <= v1::JobState_MAX; ++s) {
    if (v1::JobState_IsValid(s)) names.push_back(absl::AsciiStrToLower(v1::JobState_Name(s)));
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "--state: unknown state \"%s\"; expected a comma-separated list of %s", text,
      absl::StrJoin(names, ", ")));
}

std::string ToJson(const google::protobuf::Message& message, bool defaults) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = defaults;
  options.preserve_proto_field_names = true;
  std::string json;
  // Fails only for messages that cannot be printed at all (an Any of an
  // unknown type); none of the API's can.
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

std::string ToYaml(const google::protobuf::Message& message, bool defaults) {
  YAML::Emitter out;
  EmitYaml(YAML::Load(ToJson(message, defaults)), out);
  return absl::StrCat(out.c_str(), "\n");
}

std::string FormatAge(absl::Duration age) {
  if (age < absl::ZeroDuration()) return "-";
  int64_t seconds = absl::ToInt64Seconds(age);
  if (seconds < 120) return absl::StrCat(seconds, "s");
  if (seconds < 120 * 60) return absl::StrCat(seconds / 60, "m");
  if (seconds < 48 * 3600) return absl::StrCat(seconds / 3600, "h");
  return absl::StrCat(seconds / 86400, "d");
}

std::string FormatJobTable(const std::vector<v1::Job>& jobs, bool wide, absl::Time now) {
  std::vector<std::vector<std::string>> rows = {{"ID", "NAME", "KIND", "STATE", "PROGRESS", "AGE"}};
  if (wide) {
    for (const char* column : {"WORLD", "WORKERS", "ATTEMPTS", "PARENT", "TOP1", "LABELS"}) {
      rows[0].push_back(column);
    }
  }
  rows[0].push_back("REASON");
  for (const v1::Job& job : jobs) {
    const v1::JobSpec& spec = job.spec();
    std::vector<std::string> row = {job.id(), OrDash(spec.name()), OrDash(spec.kind()),
                                    JobStateName(job.state()), ProgressText(job.progress()),
                                    AgeSince(job.created_at(), now)};
    if (wide) {
      auto top1 = job.metrics().find("top1");
      std::vector<std::string> labels;
      for (const auto& [key, value] : spec.labels()) labels.push_back(absl::StrCat(key, "=", value));
      std::sort(labels.begin(), labels.end());
      row.push_back(absl::StrCat(spec.has_world_size() ? spec.world_size() : 1));
      row.push_back(OrDash(absl::StrJoin(job.workers(), ",")));
      row.push_back(absl::StrCat(job.attempts()));
      row.push_back(OrDash(job.parent_id()));
      row.push_back(top1 == job.metrics().end() ? "-" : absl::StrFormat("%.4f", top1->second));
      row.push_back(OrDash(absl::StrJoin(labels, ",")));
    }
    row.push_back(OrDash(wide ? job.reason() : Cut(job.reason(), kNarrowReasonWidth)));
    rows.push_back(std::move(row));
  }
  return Table(rows);
}

std::string FormatWorkerTable(const std::vector<v1::Worker>& workers, bool wide,
                              absl::Time now) {
  std::vector<std::vector<std::string>> rows = {
      {"ID", "DEVICE", "STATE", "JOB", "RANK", "LAST HEARTBEAT"}};
  if (wide) rows[0].insert(rows[0].end(), {"HOST", "ADDRESS"});
  for (const v1::Worker& worker : workers) {
    std::string device = OrDash(worker.device_kind());
    if (worker.device_count() > 1) absl::StrAppend(&device, " x", worker.device_count());
    // A GPU worker says which GPU: "cuda (NVIDIA H200, 140 GiB)".
    if (worker.device_kind() == "cuda" && !worker.device_name().empty() &&
        worker.device_memory_bytes() > 0) {
      absl::StrAppend(&device, " (", worker.device_name(), ", ",
                      std::llround(worker.device_memory_bytes() / double{1 << 30}), " GiB)");
    }
    std::string state = v1::WorkerState_Name(worker.state());
    if (worker.state() == v1::WORKER_STATE_UNSPECIFIED || state.empty()) state = "UNKNOWN";
    // A worker that keeps failing says so: "IDLE, unhealthy (3 failures)".
    if (worker.unhealthy()) {
      absl::StrAppend(&state, ", unhealthy (", worker.consecutive_failures(), " failures)");
    }
    std::string heartbeat = AgeSince(worker.last_heartbeat(), now);
    if (heartbeat != "-") heartbeat += " ago";
    const bool busy = !worker.job_id().empty();
    std::vector<std::string> row = {worker.id(), device, state, OrDash(worker.job_id()),
                                    busy ? absl::StrCat(worker.rank()) : "-", heartbeat};
    if (wide) row.insert(row.end(), {OrDash(worker.hostname()), OrDash(worker.collective_address())});
    rows.push_back(std::move(row));
  }
  return Table(rows);
}

std::string FormatJob(const v1::Job& job, OutputFormat format, absl::Time now) {
  switch (format) {
    case OutputFormat::kJson:
    case OutputFormat::kYaml:
      return FormatAs(job, format);
    case OutputFormat::kName:
      return absl::StrCat(NameOf(job), "\n");
    case OutputFormat::kTable:
    case OutputFormat::kWide:
      break;
  }
  return FormatJobTable({job}, format == OutputFormat::kWide, now);
}

std::string FormatJobs(const v1::ListJobsResponse& page, OutputFormat format, absl::Time now) {
  switch (format) {
    case OutputFormat::kJson:
    case OutputFormat::kYaml:
      return FormatAs(page, format);
    case OutputFormat::kName: {
      std::string out;
      for (const v1::Job& job : page.jobs()) absl::StrAppend(&out, NameOf(job), "\n");
      return out;
    }
    case OutputFormat::kTable:
    case OutputFormat::kWide:
      break;
  }
  return FormatJobTable({page.jobs().begin(), page.jobs().end()}, format == OutputFormat::kWide,
                        now);
}

std::string FormatWorkers(const v1::ListWorkersResponse& workers, OutputFormat format,
                          absl::Time now) {
  switch (format) {
    case OutputFormat::kJson:
    case OutputFormat::kYaml:
      return FormatAs(workers, format);
    case OutputFormat::kName: {
      std::string out;
      for (const v1::Worker& worker : workers.workers()) absl::StrAppend(&out, worker.id(), "\n");
      return out;
    }
    case OutputFormat::kTable:
    case OutputFormat::kWide:
      break;
  }
  return FormatWorkerTable({workers.workers().begin(), workers.workers().end()},
                           format == OutputFormat::kWide, now);
}

std::string FormatJobMetrics(const v1::JobMetrics& metrics, OutputFormat format) {
  if (format == OutputFormat::kJson || format == OutputFormat::kYaml) {
    return FormatAs(metrics, format);
  }
  std::set<std::string> names;
  for (const v1::StepMetrics& point : metrics.steps()) {
    for (const auto& [name, value] : point.values()) names.insert(name);
  }
  if (format == OutputFormat::kName) return absl::StrCat(absl::StrJoin(names, "\n"), "\n");
  std::vector<std::vector<std::string>> rows = {{"STEP", "EPOCH"}};
  for (const std::string& name : names) rows[0].push_back(absl::AsciiStrToUpper(name));
  for (const v1::StepMetrics& point : metrics.steps()) {
    std::vector<std::string> row = {absl::StrCat(point.step()),
                                    absl::StrFormat("%.3f", point.epoch())};
    for (const std::string& name : names) {
      auto it = point.values().find(name);
      row.push_back(it == point.values().end() ? "-" : absl::StrFormat("%.6g", it->second));
    }
    rows.push_back(std::move(row));
  }
  return Table(rows);
}

}  // namespace simclr::client
