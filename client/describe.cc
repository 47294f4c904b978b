#include "client/describe.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "client/output.h"
#include "common/time_util.h"
#include "model/checkpoint/checkpoint_files.h"

namespace simclr::client {
namespace {

std::string TimeText(const google::protobuf::Timestamp& t, absl::Time now) {
  if (t.seconds() == 0 && t.nanos() == 0) return "-";
  const absl::Time time = FromProto(t);
  return absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M:%S", time, absl::UTCTimeZone()), " (",
                      FormatAge(now - time), " ago)");
}

std::string Ranks(const google::protobuf::RepeatedPtrField<std::string>& workers) {
  std::vector<std::string> parts;
  for (int rank = 0; rank < workers.size(); ++rank) {
    parts.push_back(absl::StrCat(workers[rank], " (rank ", rank, ")"));
  }
  return absl::StrJoin(parts, ", ");
}

std::string Indent(const std::string& text, const std::string& prefix) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    absl::StrAppend(&out, prefix, text.substr(start, end - start), "\n");
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string EventTitle(const v1::JobEvent& event) {
  const v1::JobState from = event.from_state();
  const v1::JobState to = event.to_state();
  if (from == v1::JOB_STATE_UNSPECIFIED) {
    return absl::StrCat("submitted (", JobStateName(to), ")");
  }
  if (from == to) return absl::StrCat("attempt ", event.attempt(), " says");
  if (to == v1::RUNNING) return absl::StrCat("attempt ", event.attempt(), " started");
  if (from == v1::RUNNING && to == v1::QUEUED) {
    return absl::StrCat("attempt ", event.attempt(), " ended, requeued");
  }
  if (from == v1::PENDING && to == v1::QUEUED) return "dependency succeeded, queued";
  switch (to) {
    case v1::SUCCEEDED:
      return "succeeded";
    case v1::FAILED:
      return "failed";
    case v1::CANCELLED:
      return "cancelled";
    default:
      return absl::StrCat(JobStateName(from), " -> ", JobStateName(to));
  }
}

std::string EventDetail(const v1::JobEvent& event) {
  if (event.from_state() == event.to_state()) {
    return absl::StrCat("at step ", event.step(), ": ", event.message());
  }
  if (event.to_state() == v1::RUNNING) {
    std::string detail = absl::StrCat(
        "on ", Ranks(event.workers()), "; ",
        event.checkpoint().empty() ? "from scratch" : "resuming from " + event.checkpoint());
    // The job's progress then is the step the last attempt reached: what
    // lies past the checkpoint is trained again.
    int64_t resumed = 0;
    const std::string name = event.checkpoint().substr(event.checkpoint().rfind('/') + 1);
    if (!event.checkpoint().empty() && !model::ParseCheckpointFileName(name, &resumed)) {
      return detail;
    }
    if (event.step() > resumed) {
      absl::StrAppend(&detail, "; redoes steps ", resumed + 1, "-", event.step(), " (",
                      event.step() - resumed, ")");
    }
    return detail;
  }
  std::string detail;
  if (event.from_state() == v1::RUNNING) absl::StrAppend(&detail, "at step ", event.step());
  if (!event.message().empty()) {
    absl::StrAppend(&detail, detail.empty() ? "" : ": ", event.message());
  }
  return detail.empty() ? "-" : detail;
}

std::string FormatDescription(const v1::Job& job, const std::vector<v1::JobEvent>& events,
                              absl::Time now) {
  std::string out;
  auto line = [&out](const char* label, const std::string& value) {
    absl::StrAppend(&out, label, value.empty() ? "-" : value, "\n");
  };
  line("Name:          ", job.spec().name());
  line("ID:            ", job.id());
  line("Kind:          ", job.spec().kind());
  line("State:         ", JobStateName(job.state()));
  line("Reason:        ", job.reason());
  line("Submitted by:  ", job.submitted_by());
  std::vector<std::string> labels;
  for (const auto& [key, value] : job.spec().labels()) labels.push_back(absl::StrCat(key, "=", value));
  std::sort(labels.begin(), labels.end());
  line("Labels:        ", absl::StrJoin(labels, ","));
  line("Created:       ", TimeText(job.created_at(), now));
  line("Attempts:      ", absl::StrCat(job.attempts(), " (restarts spent: ", job.restarts(),
                                       " of ", job.spec().max_restarts(), ")"));
  line("Workers:       ", Ranks(job.workers()));
  if (!job.avoided_workers().empty()) {
    line("Avoided:       ", absl::StrJoin(job.avoided_workers(), ", "));
  }
  line("Progress:      ", job.progress().total_steps() > 0
                              ? absl::StrCat(job.progress().step(), "/",
                                             job.progress().total_steps(), " steps")
                              : "");
  line("Checkpoint:    ", job.checkpoint());
  line("Artifacts:     ", job.artifact_dir());
  // NOTE [export format] in model/checkpoint/export.h.
  if (job.state() == v1::SUCCEEDED && job.attempts() > 0 && job.spec().model().sk_ratio() == 0) {
    line("Model:         ",
         absl::StrCat(model::AttemptDirectory(job.artifact_dir(), job.attempts()), "/",
                      model::kExportFileName, " (for torch.load)"));
  }
  if (!job.metrics().empty()) {
    absl::StrAppend(&out, "Metrics:\n");
    std::vector<std::pair<std::string, double>> metrics(job.metrics().begin(),
                                                        job.metrics().end());
    std::sort(metrics.begin(), metrics.end());
    for (const auto& [name, value] : metrics) absl::StrAppend(&out, "  ", name, ": ", value, "\n");
  }
  const v1::JobSpec& spec = job.has_submitted_spec() ? job.submitted_spec() : job.spec();
  absl::StrAppend(&out, "Spec:\n", Indent(ToYaml(spec, /*defaults=*/false), "  "));
  absl::StrAppend(&out, "Events:\n");
  if (events.empty()) {
    absl::StrAppend(&out, "  (none recorded)\n");
    return out;
  }
  for (const v1::JobEvent& event : events) {
    absl::StrAppend(&out, "  ", TimeText(event.time(), now), "  ", EventTitle(event), ": ",
                    absl::StrReplaceAll(EventDetail(event), {{"\n", " "}}), "\n");
  }
  return out;
}

}  // namespace simclr::client
