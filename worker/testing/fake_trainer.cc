// A stand-in for simclr-trainer in trainer_process_runner_test: speaks the
// same channel (a TaskAssignment on stdin, events on fd 3) and behaves as
// --mode says, so every way a trainer can end is tested without LibTorch.
//
//   succeed        one progress report with a checkpoint, one step, success
//   fail           reports a task error (InvalidArgument)
//   exit3          exits with code 3 without a result
//   abort          prints a line and aborts (SIGABRT)
//   until_term     runs until SIGTERM, then reports Cancelled
//   ignore_term    ignores SIGTERM and runs forever
//   freeze         reports once, then stops itself (SIGSTOP)
//   allocate       allocates --allocate_mb MiB; reports what happened
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <memory>
#include <new>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/shutdown_signal.h"
#include "proto/simclr/v1/worker.pb.h"
#include "worker/trainer_channel.h"
#include "worker/training/event_sink.h"

ABSL_FLAG(std::string, mode, "succeed", "how to behave (see the file comment)");
ABSL_FLAG(int, allocate_mb, 0, "MiB to allocate in --mode=allocate");

namespace simclr::worker {
namespace {

void ReportOnce(EventSink& events, const v1::TaskAssignment& task) {
  v1::Progress progress;
  progress.set_step(1);
  progress.set_total_steps(2);
  events.Report(progress, {{"loss", 2.5}}, task.artifact_dir() + "/ckpt-1");
  StepStats stats;
  stats.step = 1;
  stats.loss = 2.5;
  events.OnStep(TaskLabels{}, stats);
}

int Run(const std::string& mode) {
  const std::string bytes((std::istreambuf_iterator<char>(std::cin)),
                          std::istreambuf_iterator<char>());
  v1::TaskAssignment task;
  if (!task.ParseFromString(bytes)) return 2;
  std::fprintf(stderr, "fake trainer %s: %s\n", mode.c_str(), task.task_id().c_str());

  if (mode == "exit3") return 3;
  if (mode == "abort") {
    std::fprintf(stderr, "about to abort\n");
    std::fflush(stderr);
    std::abort();
  }
  if (mode == "ignore_term") {
    signal(SIGTERM, SIG_IGN);
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &term, nullptr);
  } else {
    BlockShutdownSignals();
  }
  absl::Notification cancel;
  if (mode != "ignore_term") NotifyOnShutdownSignal(&cancel);
  EventSink events(kTrainerEventsFd, &cancel, absl::Milliseconds(100));

  if (mode == "succeed") {
    ReportOnce(events, task);
    events.OnEvaluation(TaskLabels{}, 0.75, 0.95);
    events.Finish(TaskResult{task.artifact_dir() + "/ckpt-2", {{"top1", 0.75}}});
    return 0;
  }
  if (mode == "fail") {
    events.Finish(absl::InvalidArgumentError("data.path: nothing at /nowhere"));
    return 1;
  }
  if (mode == "until_term" || mode == "ignore_term") {
    ReportOnce(events, task);
    while (!cancel.WaitForNotificationWithTimeout(absl::Milliseconds(20))) {
    }
    events.Finish(absl::CancelledError("stopped at step 1"));
    return 1;
  }
  if (mode == "freeze") {
    ReportOnce(events, task);
    raise(SIGSTOP);
    events.Finish(TaskResult{});
    return 0;
  }
  if (mode == "allocate") {
    const size_t size = static_cast<size_t>(absl::GetFlag(FLAGS_allocate_mb)) << 20;
    try {
      std::unique_ptr<char[]> block(new char[size]);
      std::memset(block.get(), 1, size);
      events.Finish(TaskResult{});
      return 0;
    } catch (const std::bad_alloc&) {
      events.Finish(absl::ResourceExhaustedError(
          absl::StrCat("out of memory: cannot allocate ", absl::GetFlag(FLAGS_allocate_mb),
                       " MiB")));
      return 1;
    }
  }
  return 2;
}

}  // namespace
}  // namespace simclr::worker

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return simclr::worker::Run(absl::GetFlag(FLAGS_mode));
}
