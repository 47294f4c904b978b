#include "worker/trainer_process_runner.h"

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "model/checkpoint/checkpoint_files.h"
#include "common/status_macros.h"
#include "worker/trainer_channel.h"
#include "worker/trainer_process.h"

namespace simclr::worker {
namespace {

std::map<std::string, double> ToMap(const google::protobuf::Map<std::string, double>& values) {
  return std::map<std::string, double>(values.begin(), values.end());
}

StepStats ToStats(const StepEvent& e) {
  StepStats stats;
  stats.step = e.step();
  stats.total_steps = e.total_steps();
  stats.epoch = e.epoch();
  stats.loss = e.loss();
  stats.learning_rate = e.learning_rate();
  stats.images_per_second = e.images_per_second();
  stats.data_wait_seconds = e.data_wait_seconds();
  stats.compute_seconds = e.compute_seconds();
  stats.communication_seconds = e.communication_seconds();
  stats.extra = ToMap(e.extra());
  return stats;
}

const char* StateWord(char state) {
  switch (state) {
    case 'T': return "stopped by a signal";
    case 't': return "stopped by a debugger";
    case 'D': return "in uninterruptible I/O";
    case 'Z': return "exited";
    case 'R': return "running";
    case 'S': return "sleeping";
    default: return "unknown";
  }
}

// What the agent saw of one trainer while it ran.
struct Supervision {
  std::optional<ResultEvent> result;
  std::string ended_by;  // why the agent SIGKILLed it ("" = it ended on its own)
};

}  // namespace

TrainerProcessRunner::TrainerProcessRunner(TrainerProcessRunnerOptions options,
                                           TrainingObserver* observer, const Clock* clock)
    : options_(std::move(options)), observer_(observer), clock_(clock) {}

std::string TrainerProcessRunner::LogPath(const v1::TaskAssignment& task) {
  return model::RankLogPath(task.artifact_dir(), task.attempt(), task.rank());
}

absl::StatusOr<TaskResult> TrainerProcessRunner::Run(const v1::TaskAssignment& task,
                                                     TaskContext& context) {
  const TaskLabels labels{task.job_id(), task.spec().kind(), task.rank()};
  const std::string log_path = LogPath(task);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(log_path).parent_path(), ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot create the log directory of ", log_path,
                                               ": ", ec.message()));
  }
  TrainerProcessOptions process;
  process.argv.push_back(options_.trainer_path);
  process.argv.insert(process.argv.end(), options_.trainer_args.begin(),
                      options_.trainer_args.end());
  process.log_path = log_path;
  process.stdin_bytes = task.SerializeAsString();
  process.memory_limit_bytes = options_.memory_limit_bytes;
  const std::optional<int64_t> oom_kills_before = CgroupOomKills();
  ASSIGN_OR_RETURN(std::unique_ptr<TrainerProcess> trainer, TrainerProcess::Start(process));
  std::fprintf(stderr, "simclr-worker: %s runs in trainer pid %d, log %s\n",
               task.task_id().c_str(), static_cast<int>(trainer->pid()), log_path.c_str());

  // Supervise until the trainer closes its events pipe (it exited) or is
  // ended. Nothing here blocks but the read: Report and the observer queue.
  Supervision seen;
  EventReader reader(trainer->events_fd());
  absl::Time last_heard = clock_->Now();
  std::optional<absl::Time> kill_at;  // set by a cancel's SIGTERM
  for (;;) {
    TrainerEvent event;
    absl::StatusOr<EventReader::Next> next = reader.Read(options_.poll_interval, &event);
    const absl::Time now = clock_->Now();
    if (!next.ok()) {
      seen.ended_by = absl::StrCat("broke its event channel (", next.status().message(), ")");
      break;
    }
    if (*next == EventReader::kEnd) break;
    if (*next == EventReader::kEvent) {
      last_heard = now;
      switch (event.event_case()) {
        case TrainerEvent::kProgress:
          context.Report(event.progress().progress(), ToMap(event.progress().metrics()),
                         event.progress().checkpoint());
          break;
        case TrainerEvent::kNote:
          context.Note(event.note());
          break;
        case TrainerEvent::kStep:
          if (observer_ != nullptr) observer_->OnStep(labels, ToStats(event.step()));
          break;
        case TrainerEvent::kCheckpointWriteSeconds:
          if (observer_ != nullptr) {
            observer_->OnCheckpoint(labels, event.checkpoint_write_seconds());
          }
          break;
        case TrainerEvent::kEvaluation:
          if (observer_ != nullptr) {
            observer_->OnEvaluation(labels, event.evaluation().top1(), event.evaluation().top5());
          }
          break;
        case TrainerEvent::kResult:
          seen.result = event.result();
          break;
        default:  // alive
          break;
      }
    }
    if (context.cancelled() && !kill_at.has_value()) {
      trainer->SignalGroup(SIGTERM);
      kill_at = now + options_.grace_period;
    }
    if (kill_at.has_value() && now >= *kill_at) {
      seen.ended_by = absl::StrCat("did not stop within the ",
                                   absl::FormatDuration(options_.grace_period),
                                   " grace period after SIGTERM");
      break;
    }
    if (now - last_heard > options_.liveness_timeout) {
      seen.ended_by = absl::StrCat("sent nothing for ",
                                   absl::FormatDuration(absl::Trunc(now - last_heard,
                                                                    absl::Milliseconds(100))),
                                   " (process state: ", StateWord(trainer->State()),
                                   "); frozen or hung");
      break;
    }
  }
  if (!seen.ended_by.empty()) trainer->SignalGroup(SIGKILL);

  // After its pipe closed the trainer is exiting; one that closed the pipe
  // and kept running gets the grace period, then SIGKILL.
  std::optional<ExitStatus> exit = trainer->Wait(options_.grace_period);
  if (!exit.has_value()) {
    trainer->SignalGroup(SIGKILL);
    exit = trainer->Wait(absl::InfiniteDuration());
  }
  if (observer_ != nullptr) observer_->OnTaskEnd(labels);

  // A trainer that reported success and then crashed on its way out (a
  // destructor in a third-party library, say) did its work.
  if (seen.result.has_value() && seen.result->code() == 0) {
    return TaskResult{seen.result->checkpoint(), ToMap(seen.result->metrics())};
  }
  if (context.cancelled()) {
    return absl::CancelledError(absl::StrCat("trainer ", exit->Describe(), " after a cancel"));
  }
  const std::string tail = absl::StrReplaceAll(
      TailOfFile(log_path, options_.reason_log_bytes), {{"\n", " | "}});
  const std::string last_output = tail.empty() ? "" : absl::StrCat("; last output: ", tail);
  if (!seen.ended_by.empty()) {
    return absl::UnavailableError(absl::StrCat("trainer ", seen.ended_by, last_output));
  }
  if (seen.result.has_value() && seen.result->code() != 0) {
    return absl::Status(static_cast<absl::StatusCode>(seen.result->code()),
                        seen.result->message());
  }
  const std::optional<int64_t> oom_kills_after = CgroupOomKills();
  if (exit->signal == SIGKILL && oom_kills_before.has_value() && oom_kills_after.has_value() &&
      *oom_kills_after > *oom_kills_before) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "out of memory: the kernel's OOM killer ended the trainer", last_output));
  }
  return absl::UnavailableError(
      absl::StrCat("trainer ", exit->Describe(), " without a result", last_output));
}

}  // namespace simclr::worker
