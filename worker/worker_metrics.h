// Prometheus metrics of a worker. The registry is created in main and handed
// in. Series carry the labels job (id), kind, rank and worker; a task's series
// are removed when it ends, so label cardinality stays bounded by the tasks
// running now.
//
//   simclr_worker_step, _total_steps, _epoch, _loss, _learning_rate,
//   simclr_worker_images_per_second                      gauges per task
//   simclr_worker_step_phase_seconds{phase}              histogram: data_wait,
//       compute (forward + backward, incl. sync BN and the embedding gather),
//       communication (gradient allreduce + the per-step stop vote)
//   simclr_worker_top1, simclr_worker_top5               last evaluation
//   simclr_worker_checkpoint_write_seconds               histogram
//   simclr_worker_tasks_running                          gauge
//   simclr_worker_resident_memory_bytes                  at scrape, /proc: the
//                                                        agent and its trainer
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
#include "worker/training/training_observer.h"

namespace simclr::worker {

// Thread-safe.
class WorkerMetrics final : public TrainingObserver {
 public:
  WorkerMetrics(prometheus::Registry& registry, std::string worker);

  // The worker id is known only after registration.
  void set_worker(const std::string& worker);

  void OnStep(const TaskLabels& task, const StepStats& stats) override;
  void OnCheckpoint(const TaskLabels& task, double write_seconds) override;
  void OnEvaluation(const TaskLabels& task, double top1, double top5) override;
  void OnTaskEnd(const TaskLabels& task) override;

  // Process gauges computed at scrape time (resident memory).
  static std::shared_ptr<prometheus::Collectable> ProcessCollectable();

 private:
  prometheus::Labels Labels(const TaskLabels& task) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

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
  // Label sets in use, to remove the series when a task ends.
  std::map<std::string, prometheus::Labels> live_ ABSL_GUARDED_BY(mu_);
};

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_WORKER_METRICS_H_
