// The worker's TaskRunner for every job kind: builds the data, network,
// optimizer and process group a task needs from its assignment, runs the
// shared training loop, evaluates, and returns the final checkpoint.
#ifndef SIMCLR_WORKER_TRAINING_TRAINING_RUNNER_H_
#define SIMCLR_WORKER_TRAINING_TRAINING_RUNNER_H_

#include <string>
#include <vector>

#include "common/clock.h"
#include "worker/task_runner.h"
#include "worker/training/training_observer.h"

namespace simclr::worker {

struct TrainingRunnerOptions {
  std::string device = "cpu";  // "cpu" or "cuda:N"
  // Address this worker's collective transport binds to ("" = automatic).
  std::string local_address;
  // The data a task may read must lie under one of these, links resolved
  // (the coordinator checks the same lexically at submit); empty: anywhere.
  std::vector<std::string> data_roots;
};

// Runs one task at a time (the agent's contract).
class TrainingRunner final : public TaskRunner {
 public:
  TrainingRunner(TrainingRunnerOptions options, TrainingObserver* observer,  // may be null
                 const Clock* clock);  // not owned

  absl::StatusOr<TaskResult> Run(const v1::TaskAssignment& task, TaskContext& context) override;

 private:
  const TrainingRunnerOptions options_;
  TrainingObserver* const observer_;
  const Clock* const clock_;
};

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_TRAINING_TRAINING_RUNNER_H_
