// The trainer's side of the channel to its agent: the TaskContext and the
// TrainingObserver that a training loop talks to, turned into TrainerEvents
// on a pipe (NOTE [trainer process] in worker/trainer_process_runner.h).
#ifndef SIMCLR_WORKER_TRAINING_EVENT_SINK_H_
#define SIMCLR_WORKER_TRAINING_EVENT_SINK_H_

#include <atomic>
#include <map>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "worker/task_runner.h"
#include "worker/trainer_channel.h"
#include "worker/training/training_observer.h"

namespace simclr::worker {

// Thread-safe. Sends `alive` every `alive_interval` from a thread of its own
// until destroyed, so the agent can tell a frozen trainer from a slow step.
// Write errors (the agent is gone) are ignored: the trainer dies with its
// agent anyway (PR_SET_PDEATHSIG).
class EventSink final : public TaskContext, public TrainingObserver {
 public:
  // `fd` is not owned. `cancel` (not owned) is notified when the trainer
  // must stop: SIGTERM from the agent.
  EventSink(int fd, const absl::Notification* cancel,
            absl::Duration alive_interval = absl::Seconds(1));
  ~EventSink() override;

  // TaskContext
  bool cancelled() const override { return cancel_->HasBeenNotified(); }
  void Report(const v1::Progress& progress, const std::map<std::string, double>& metrics,
              const std::string& checkpoint) override;
  void Note(const std::string& what) override;

  // TrainingObserver
  void OnStep(const TaskLabels& task, const StepStats& stats) override;
  void OnCheckpoint(const TaskLabels& task, double write_seconds) override;
  void OnEvaluation(const TaskLabels& task, double top1, double top5) override;
  void OnTaskEnd(const TaskLabels& task) override {}

  // The last event: how the task ended.
  void Finish(const absl::StatusOr<TaskResult>& result);

  // True once a training step was reported: before that, a stop request has
  // nothing to save and ends the trainer at once.
  bool stepped() const { return stepped_.load(); }

 private:
  void Send(const TrainerEvent& event);

  EventWriter writer_;
  const absl::Notification* const cancel_;
  std::atomic<bool> stepped_{false};
  absl::Notification stop_alive_;
  std::thread alive_;
};

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_TRAINING_EVENT_SINK_H_
