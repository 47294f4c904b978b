// Prometheus metrics of a worker. The registry is created in main and handed
// in. A task's series carry the labels job_id (the SimCLR job; not `job`,
// which is Prometheus's scrape job), kind, rank and worker; they are removed
// when the task ends, so label cardinality stays bounded by the tasks running
// now. An idle worker already exports what it is, how its tasks ended and how
// its heartbeats fare, so a fleet can be watched before any job runs:
//
//   simclr_worker_info{version, device, device_name}     1
//   simclr_worker_tasks_finished_total{result}           succeeded, failed,
//                                                        cancelled; from 0
//   simclr_worker_heartbeat_failures_total               heartbeats unanswered
//   simclr_worker_last_heartbeat_success_timestamp_seconds
//   process_* (common/process_metrics.h)                 the agent process
//   simclr_worker_trainer_resident_memory_bytes          at scrape, /proc: the
//                                                        trainer processes
//
// and per task:
//
//   simclr_worker_step, _total_steps, _epoch, _loss, _learning_rate,
//   simclr_worker_images_per_second                      gauges per task
//   simclr_worker_step_phase_seconds{phase}              histogram: data_wait,
//       compute (forward + backward, incl. sync BN and the embedding gather),
//       communication (gradient allreduce + the per-step stop vote)
//   simclr_worker_top1, simclr_worker_top5               last evaluation
//   simclr_worker_checkpoint_write_seconds               histogram
//   simclr_worker_tasks_running                          gauge
#ifndef SIMCLR_WORKER_WORKER_METRICS_H_
#define SIMCLR_WORKER_WORKER_METRICS_H_

#include <map>
#include <memory>
#include <string>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "worker/agent.h"
#include "worker/training/training_observer.h"

namespace simclr::worker {

// Thread-safe.
class WorkerMetrics final : public TrainingObserver, public AgentObserver {
 public:
  // The worker id is known only after registration (OnRegistered).
  WorkerMetrics(prometheus::Registry& registry, const Clock* clock);  // clock not owned

  // Registers simclr_worker_info; call once the device is known.
  void SetInfo(const std::string& device, const std::string& device_name);

  void OnRegistered(const std::string& worker_id) override;
  void OnHeartbeat(bool answered) override;
  void OnTaskFinished(TaskOutcome outcome) override;

  void OnStep(const TaskLabels& task, const StepStats& stats) override;
  void OnCheckpoint(const TaskLabels& task, double write_seconds) override;
  void OnEvaluation(const TaskLabels& task, double top1, double top5) override;
  void OnTaskEnd(const TaskLabels& task) override;

  // Gauges computed at scrape time: the trainer processes' resident memory.
  static std::shared_ptr<prometheus::Collectable> TrainerCollectable();

 private:
  prometheus::Labels Labels(const TaskLabels& task) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  prometheus::Registry& registry_;
  const Clock* const clock_;
  absl::Mutex mu_;
  std::string worker_ ABSL_GUARDED_BY(mu_);
  prometheus::Family<prometheus::Gauge>& step_;
  prometheus::Family<prometheus::Gauge>& total_steps_;
  prometheus::Family<prometheus::Gauge>& epoch_;
  prometheus::Family<prometheus::Gauge>& loss_;
  prometheus::Family<prometheus::Gauge>& learning_rate_;
  prometheus::Family<prometheus::Gauge>& images_per_second_;
  prometheus::Family<prometheus::Histogram>& phase_seconds_;
  prometheus::Family<prometheus::Gauge>& top1_;
  prometheus::Family<prometheus::Gauge>& top5_;
  prometheus::Family<prometheus::Histogram>& checkpoint_seconds_;
  prometheus::Family<prometheus::Counter>& steps_total_;
  prometheus::Gauge& tasks_running_;
  prometheus::Family<prometheus::Counter>& tasks_finished_;
  prometheus::Counter& heartbeat_failures_;
  prometheus::Gauge& last_heartbeat_success_;
  // Label sets in use, to remove the series when a task ends.
  std::map<std::string, prometheus::Labels> live_ ABSL_GUARDED_BY(mu_);
};

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_WORKER_METRICS_H_
