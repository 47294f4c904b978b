#include "worker/training/event_sink.h"

namespace simclr::worker {

EventSink::EventSink(int fd, const absl::Notification* cancel, absl::Duration alive_interval)
    : writer_(fd), cancel_(cancel) {
  alive_ = std::thread([this, alive_interval] {
    TrainerEvent alive;
    alive.set_alive(true);
    do {
      Send(alive);
    } while (!stop_alive_.WaitForNotificationWithTimeout(alive_interval));
  });
}

EventSink::~EventSink() {
  stop_alive_.Notify();
  alive_.join();
}

void EventSink::Send(const TrainerEvent& event) { writer_.Write(event).IgnoreError(); }

void EventSink::Report(const v1::Progress& progress, const std::map<std::string, double>& metrics,
                       const std::string& checkpoint) {
  TrainerEvent event;
  ProgressEvent& p = *event.mutable_progress();
  *p.mutable_progress() = progress;
  p.mutable_metrics()->insert(metrics.begin(), metrics.end());
  p.set_checkpoint(checkpoint);
  Send(event);
}

void EventSink::Note(const std::string& what) {
  TrainerEvent event;
  event.set_note(what);
  Send(event);
}

void EventSink::OnStep(const TaskLabels&, const StepStats& stats) {
  stepped_ = true;
  TrainerEvent event;
  StepEvent& s = *event.mutable_step();
  s.set_step(stats.step);
  s.set_total_steps(stats.total_steps);
  s.set_epoch(stats.epoch);
  s.set_loss(stats.loss);
  s.set_learning_rate(stats.learning_rate);
  s.set_images_per_second(stats.images_per_second);
  s.set_data_wait_seconds(stats.data_wait_seconds);
  s.set_compute_seconds(stats.compute_seconds);
  s.set_communication_seconds(stats.communication_seconds);
  s.mutable_extra()->insert(stats.extra.begin(), stats.extra.end());
  Send(event);
}

void EventSink::OnCheckpoint(const TaskLabels&, double write_seconds) {
  TrainerEvent event;
  event.set_checkpoint_write_seconds(write_seconds);
  Send(event);
}

void EventSink::OnEvaluation(const TaskLabels&, double top1, double top5) {
  TrainerEvent event;
  event.mutable_evaluation()->set_top1(top1);
  event.mutable_evaluation()->set_top5(top5);
  Send(event);
}

void EventSink::Finish(const absl::StatusOr<TaskResult>& result) {
  TrainerEvent event;
  ResultEvent& r = *event.mutable_result();
  if (result.ok()) {
    r.set_checkpoint(result->checkpoint);
    r.mutable_metrics()->insert(result->metrics.begin(), result->metrics.end());
  } else {
    r.set_code(static_cast<int>(result.status().code()));
    r.set_message(std::string(result.status().message()));
  }
  Send(event);
}

}  // namespace simclr::worker
