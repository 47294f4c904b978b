#include "worker/worker_metrics.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/metric_family.h>

#include "absl/strings/str_cat.h"
#include "common/process_metrics.h"

namespace simclr::worker {
namespace {

const prometheus::Histogram::BucketBoundaries& PhaseBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return *buckets;
}

// Resident pages of /proc/<pid>/statm (0 once the process is gone).
long ResidentPages(const std::string& pid) {
  long pages = 0;
  long resident = 0;
  std::ifstream statm("/proc/" + pid + "/statm");
  statm >> pages >> resident;
  return resident;
}

// The trainer processes the agent runs: its children, as the kernel lists
// them per thread in /proc/self/task/<tid>/children. (The agent's own memory
// is process_resident_memory_bytes.)
class TrainerCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    long resident = 0;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
      std::ifstream children(task.path() / "children");
      std::string child;
      while (children >> child) resident += ResidentPages(child);
    }
    prometheus::ClientMetric m;
    m.gauge.value = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
    return {prometheus::MetricFamily{
        "simclr_worker_trainer_resident_memory_bytes",
        "Resident memory of the trainer processes this worker runs (0 when idle).",
        prometheus::MetricType::Gauge,
        {m}}};
  }
};

const char* OutcomeName(TaskOutcome outcome) {
  switch (outcome) {
    case TaskOutcome::kSucceeded:
      return "succeeded";
    case TaskOutcome::kFailed:
      return "failed";
    case TaskOutcome::kCancelled:
      return "cancelled";
  }
  return "failed";
}

template <typename T>
prometheus::Family<T>& Build(prometheus::Registry& registry, const std::string& name,
                             const std::string& help);

template <>
prometheus::Family<prometheus::Gauge>& Build(prometheus::Registry& registry,
                                             const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

template <>
prometheus::Family<prometheus::Histogram>& Build(prometheus::Registry& registry,
                                                 const std::string& name, const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
}

template <>
prometheus::Family<prometheus::Counter>& Build(prometheus::Registry& registry,
                                               const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

}  // namespace

WorkerMetrics::WorkerMetrics(prometheus::Registry& registry, const Clock* clock)
    : registry_(registry),
      clock_(clock),
      step_(Build<prometheus::Gauge>(registry, "simclr_worker_step", "Training steps done.")),
      total_steps_(Build<prometheus::Gauge>(registry, "simclr_worker_total_steps",
                                            "Training steps the task will run.")),
      epoch_(Build<prometheus::Gauge>(registry, "simclr_worker_epoch", "Epochs done (fractional).")),
      loss_(Build<prometheus::Gauge>(registry, "simclr_worker_loss",
                                     "Training loss of the last step, mean over the gang.")),
      learning_rate_(Build<prometheus::Gauge>(registry, "simclr_worker_learning_rate",
                                              "Learning rate of the last step.")),
      images_per_second_(Build<prometheus::Gauge>(
          registry, "simclr_worker_images_per_second",
          "Training throughput of the whole gang (augmented views per second).")),
      phase_seconds_(Build<prometheus::Histogram>(
          registry, "simclr_worker_step_phase_seconds",
          "Time per step in each phase: data_wait, compute, communication.")),
      top1_(Build<prometheus::Gauge>(registry, "simclr_worker_top1",
                                     "Top-1 accuracy (0..1) of the last evaluation.")),
      top5_(Build<prometheus::Gauge>(registry, "simclr_worker_top5",
                                     "Top-5 accuracy (0..1) of the last evaluation.")),
      checkpoint_seconds_(Build<prometheus::Histogram>(registry,
                                                       "simclr_worker_checkpoint_write_seconds",
                                                       "Time to write one checkpoint.")),
      steps_total_(Build<prometheus::Counter>(registry, "simclr_worker_steps_total",
                                              "Training steps run by this worker.")),
      tasks_running_(Build<prometheus::Gauge>(registry, "simclr_worker_tasks_running",
                                              "Tasks this worker runs now (0 or 1).")
                         .Add({})),
      tasks_finished_(Build<prometheus::Counter>(
          registry, "simclr_worker_tasks_finished_total",
          "Tasks this worker ran to an end, by result: succeeded, failed, cancelled.")),
      heartbeat_failures_(Build<prometheus::Counter>(
                              registry, "simclr_worker_heartbeat_failures_total",
                              "Heartbeats the coordinator did not answer.")
                              .Add({})),
      last_heartbeat_success_(
          Build<prometheus::Gauge>(registry,
                                   "simclr_worker_last_heartbeat_success_timestamp_seconds",
                                   "When the coordinator last answered a heartbeat (Unix "
                                   "seconds; 0: never).")
              .Add({})) {
  // Present from the start, so increase() sees the first end too.
  for (TaskOutcome outcome :
       {TaskOutcome::kSucceeded, TaskOutcome::kFailed, TaskOutcome::kCancelled}) {
    tasks_finished_.Add({{"result", OutcomeName(outcome)}});
  }
}

void WorkerMetrics::SetInfo(const std::string& device, const std::string& device_name) {
  RegisterInfoMetric(registry_, "simclr_worker_info",
                     "What this worker is: release version, device and its name.",
                     {{"device", device}, {"device_name", device_name}});
}

void WorkerMetrics::OnRegistered(const std::string& worker_id) {
  absl::MutexLock lock(&mu_);
  worker_ = worker_id;
}

void WorkerMetrics::OnHeartbeat(bool answered) {
  if (answered) {
    last_heartbeat_success_.Set(absl::ToDoubleSeconds(clock_->Now() - absl::UnixEpoch()));
  } else {
    heartbeat_failures_.Increment();
  }
}

void WorkerMetrics::OnTaskFinished(TaskOutcome outcome) {
  tasks_finished_.Add({{"result", OutcomeName(outcome)}}).Increment();
}

prometheus::Labels WorkerMetrics::Labels(const TaskLabels& task) const {
  return {{"job_id", task.job}, {"kind", task.kind}, {"rank", absl::StrCat(task.rank)},
          {"worker", worker_}};
}

void WorkerMetrics::OnStep(const TaskLabels& task, const StepStats& stats) {
  absl::MutexLock lock(&mu_);
  const prometheus::Labels labels = Labels(task);
  if (live_.emplace(task.job, labels).second) tasks_running_.Set(1);
  step_.Add(labels).Set(static_cast<double>(stats.step));
  total_steps_.Add(labels).Set(static_cast<double>(stats.total_steps));
  epoch_.Add(labels).Set(stats.epoch);
  loss_.Add(labels).Set(stats.loss);
  learning_rate_.Add(labels).Set(stats.learning_rate);
  images_per_second_.Add(labels).Set(stats.images_per_second);
  steps_total_.Add({{"kind", task.kind}}).Increment();
  for (const auto& [phase, seconds] :
       {std::pair<const char*, double>{"data_wait", stats.data_wait_seconds},
        {"compute", stats.compute_seconds},
        {"communication", stats.communication_seconds}}) {
    prometheus::Labels with_phase = labels;
    with_phase["phase"] = phase;
    phase_seconds_.Add(with_phase, PhaseBuckets()).Observe(seconds);
  }
}

void WorkerMetrics::OnCheckpoint(const TaskLabels& task, double write_seconds) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {0.01, 0.05, 0.1, 0.25, 0.5,
                                                                    1,    2.5,  5,   10,   30, 60};
  absl::MutexLock lock(&mu_);
  checkpoint_seconds_.Add({{"kind", task.kind}, {"worker", worker_}}, kBuckets)
      .Observe(write_seconds);
}

void WorkerMetrics::OnEvaluation(const TaskLabels& task, double top1, double top5) {
  absl::MutexLock lock(&mu_);
  // Kept after the task ends (one series per kind), so dashboards show the
  // last result of each kind.
  top1_.Add({{"kind", task.kind}, {"worker", worker_}}).Set(top1);
  top5_.Add({{"kind", task.kind}, {"worker", worker_}}).Set(top5);
}

void WorkerMetrics::OnTaskEnd(const TaskLabels& task) {
  absl::MutexLock lock(&mu_);
  auto it = live_.find(task.job);
  if (it == live_.end()) return;
  const prometheus::Labels labels = it->second;
  live_.erase(it);
  for (auto* family : {&step_, &total_steps_, &epoch_, &loss_, &learning_rate_,
                       &images_per_second_}) {
    if (family->Has(labels)) family->Remove(&family->Add(labels));
  }
  for (const char* phase : {"data_wait", "compute", "communication"}) {
    prometheus::Labels with_phase = labels;
    with_phase["phase"] = phase;
    if (phase_seconds_.Has(with_phase)) {
      phase_seconds_.Remove(&phase_seconds_.Add(with_phase, PhaseBuckets()));
    }
  }
  tasks_running_.Set(static_cast<double>(live_.size()));
}

std::shared_ptr<prometheus::Collectable> WorkerMetrics::TrainerCollectable() {
  return std::make_shared<TrainerCollector>();
}

}  // namespace simclr::worker
