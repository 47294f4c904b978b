// The agent's TaskRunner: runs each task in a trainer process of its own and
// supervises it.
#ifndef SIMCLR_WORKER_TRAINER_PROCESS_RUNNER_H_
#define SIMCLR_WORKER_TRAINER_PROCESS_RUNNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/clock.h"
#include "worker/task_runner.h"
#include "worker/training/training_observer.h"

namespace simclr::worker {

// NOTE [trainer process]
// As torchrun's elastic agent and Ray's raylet do, the long-lived agent owns
// the worker's identity, lease and reporting, and each task runs in a child
// process, simclr-trainer, which links LibTorch and no gRPC:
//
//   agent --TaskAssignment on stdin--> trainer
//   agent <--TrainerEvents on fd 3---- trainer (alive every second, progress
//                                        and step stats every step, result)
//   trainer stdout+stderr --> <artifact_dir>/logs/attempt-<A>/rank-<R>.log
//
// A crash, an OOM kill, a frozen or stuck trainer then costs one attempt, not
// the daemon: the agent keeps its lease and takes the next task, and the
// memory a trainer held (GPU memory too) goes back when it exits.
//
// The agent ends a trainer
//   * when the task is cancelled (by the coordinator, a lost peer, or the
//     worker shutting down): SIGTERM to its process group, which the trainer
//     turns into a stop the whole gang agrees on at the next step (rank 0
//     checkpoints there), then SIGKILL after `grace_period`;
//   * when it sends nothing for `liveness_timeout` (frozen by SIGSTOP, or a
//     machine too overloaded to run it): SIGKILL at once.
// A trainer stuck in a collective on a dead peer fails by itself after the
// task's collective timeout, or is ended by the cancel that the peer's failure
// brings, whichever comes first. The attempt's failure reason names the cause:
// the trainer's own error, "out of memory", the signal that killed it, or how
// long it was silent, plus a short tail of its log.
struct TrainerProcessRunnerOptions {
  std::string trainer_path;               // the simclr-trainer binary
  std::vector<std::string> trainer_args;  // e.g. --device=cuda:0 --threads=8
  int64_t memory_limit_bytes = 0;         // per task (RLIMIT_AS); 0 = none
  absl::Duration grace_period = absl::Seconds(30);
  absl::Duration liveness_timeout = absl::Seconds(30);
  // How often the runner looks at the cancel flag between events.
  absl::Duration poll_interval = absl::Milliseconds(100);
  // At most this many bytes of the trainer's log go into a failure reason.
  size_t reason_log_bytes = 300;
};

// Runs one task at a time (the agent's contract). Forwards progress to the
// TaskContext and step statistics to the observer (Prometheus), neither of
// which may block.
class TrainerProcessRunner final : public TaskRunner {
 public:
  TrainerProcessRunner(TrainerProcessRunnerOptions options,
                       TrainingObserver* observer,  // may be null; not owned
                       const Clock* clock);         // not owned

  // The trainer's result, or the failure: the trainer's own error as it
  // reported it, Cancelled after a cancel, ResourceExhausted for an OOM
  // kill, Unavailable for a trainer that was frozen, crashed or exited
  // without a result.
  absl::StatusOr<TaskResult> Run(const v1::TaskAssignment& task, TaskContext& context) override;

  // <artifact_dir>/logs/attempt-<A>/rank-<R>.log
  static std::string LogPath(const v1::TaskAssignment& task);

 private:
  const TrainerProcessRunnerOptions options_;
  TrainingObserver* const observer_;
  const Clock* const clock_;
};

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_TRAINER_PROCESS_RUNNER_H_
