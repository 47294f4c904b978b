#include "coordinator/coordinator_metrics.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/metric_family.h>

#include "common/process_metrics.h"
#include "common/time_util.h"
#include "coordinator/job_spec.h"
#include "coordinator/worker_registry.h"

namespace simclr::coordinator {
namespace {

const v1::JobState kStates[] = {v1::PENDING, v1::QUEUED,    v1::RUNNING,
                                v1::SUCCEEDED, v1::FAILED, v1::CANCELLED};
const v1::WorkerState kWorkerStates[] = {v1::IDLE, v1::BUSY, v1::LOST, v1::DRAINED};

const prometheus::Histogram::BucketBoundaries& QueueWaitBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200};
  return *buckets;
}

prometheus::ClientMetric Gauge(std::vector<prometheus::ClientMetric::Label> labels, double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  return m;
}

}  // namespace

class CoordinatorMetrics::StateCollector final : public prometheus::Collectable {
 public:
  explicit StateCollector(const Clock* clock) : clock_(clock) {}

  void Attach(const Coordinator* coordinator) { coordinator_ = coordinator; }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> families;
    if (coordinator_ == nullptr) return families;

    const absl::Time now = clock_->Now();
    std::map<std::pair<std::string, v1::JobState>, int> jobs;
    std::map<std::string, double> oldest_queued;  // seconds, by kind
    for (const v1::Job& job : coordinator_->ListJobs({})) {
      ++jobs[{job.spec().kind(), job.state()}];
      if (job.state() == v1::QUEUED && job.has_queued_at()) {
        double& oldest = oldest_queued[job.spec().kind()];
        oldest = std::max(oldest, absl::ToDoubleSeconds(now - FromProto(job.queued_at())));
      }
    }
    prometheus::MetricFamily job_family{"simclr_coordinator_jobs",
                                        "Jobs known to the coordinator, by kind and state.",
                                        prometheus::MetricType::Gauge,
                                        {}};
    for (const JobKind& job_kind : AllJobKinds()) {
      const char* kind = job_kind.name;
      for (v1::JobState state : kStates) {
        job_family.metric.push_back(Gauge({{"kind", kind}, {"state", v1::JobState_Name(state)}},
                                          jobs[{kind, state}]));
      }
    }
    families.push_back(std::move(job_family));
    prometheus::MetricFamily queued_family{
        "simclr_coordinator_oldest_queued_job_age_seconds",
        "Seconds the longest-waiting QUEUED job (runnable, waiting for a gang of idle "
        "workers) has waited, by kind; 0 when none waits.",
        prometheus::MetricType::Gauge,
        {}};
    for (const JobKind& job_kind : AllJobKinds()) {
      const char* kind = job_kind.name;
      queued_family.metric.push_back(Gauge({{"kind", kind}}, oldest_queued[kind]));
    }
    families.push_back(std::move(queued_family));

    const std::vector<v1::Worker> workers = coordinator_->ListWorkers();
    std::map<std::pair<std::string, v1::WorkerState>, int> by_state;
    // NOTE [fleet-level series]: one series per worker would grow a scrape
    // with the fleet (10,000 workers: ~800 KB); the age is exported for the
    // workers that are late, which the SimclrWorkerHeartbeatLate alert needs,
    // and the fleet's oldest as one. Late means a beat missed: older than one
    // and a half intervals. A worker beating on time is older than one
    // interval for the moment its beat is on the way, and with beats spread
    // over the interval some of a fleet always are: at 10,000 workers that
    // threshold exported a few hundred series at every scrape, a number that
    // moved with the load (docs/performance.md).
    const absl::Duration late = coordinator_->options().registry.heartbeat_interval * 1.5;
    prometheus::MetricFamily age{"simclr_coordinator_worker_heartbeat_age_seconds",
                                 "Seconds since the last heartbeat of each live worker that is "
                                 "late (a beat missed: more than 1.5 heartbeat intervals).",
                                 prometheus::MetricType::Gauge,
                                 {}};
    double oldest = 0;
    std::map<std::string, int> unhealthy;  // live ones, by device kind
    for (const v1::Worker& w : workers) {
      ++by_state[{w.device_kind(), w.state()}];
      if (!IsLiveState(w.state())) continue;
      if (w.unhealthy()) ++unhealthy[w.device_kind()];
      const absl::Duration since = now - FromProto(w.last_heartbeat());
      oldest = std::max(oldest, absl::ToDoubleSeconds(since));
      if (since > late) {
        age.metric.push_back(Gauge({{"worker", w.id()}}, absl::ToDoubleSeconds(since)));
      }
    }
    prometheus::MetricFamily worker_family{"simclr_coordinator_workers",
                                           "Workers by device kind and state.",
                                           prometheus::MetricType::Gauge,
                                           {}};
    for (const char* device : {"cpu", "cuda"}) {
      for (v1::WorkerState state : kWorkerStates) {
        worker_family.metric.push_back(
            Gauge({{"device", device}, {"state", v1::WorkerState_Name(state)}},
                  by_state[{device, state}]));
      }
    }
    families.push_back(std::move(worker_family));
    prometheus::MetricFamily unhealthy_family{
        "simclr_coordinator_unhealthy_workers",
        "Live workers on whose side --unhealthy_after_failures attempts failed in a row, by "
        "device kind.",
        prometheus::MetricType::Gauge,
        {}};
    for (const char* device : {"cpu", "cuda"}) {
      unhealthy_family.metric.push_back(Gauge({{"device", device}}, unhealthy[device]));
    }
    families.push_back(std::move(unhealthy_family));
    families.push_back(std::move(age));
    prometheus::MetricFamily oldest_family{
        "simclr_coordinator_worker_heartbeat_age_max_seconds",
        "Seconds since the last heartbeat of the live worker heard from longest ago; 0 when "
        "none is live.",
        prometheus::MetricType::Gauge,
        {}};
    oldest_family.metric.push_back(Gauge({}, oldest));
    families.push_back(std::move(oldest_family));
    return families;
  }

 private:
  const Clock* const clock_;
  // Set once, before the collectable is registered with an exposer.
  const Coordinator* coordinator_ = nullptr;
};

CoordinatorMetrics::CoordinatorMetrics(prometheus::Registry& registry, const Clock* clock)
    : clock_(clock),
      submitted_(prometheus::BuildCounter()
                     .Name("simclr_coordinator_jobs_submitted_total")
                     .Help("Jobs accepted by SubmitJobs, by kind.")
                     .Register(registry)),
      finished_(prometheus::BuildCounter()
                    .Name("simclr_coordinator_jobs_finished_total")
                    .Help("Jobs that reached a final state, by kind and state.")
                    .Register(registry)),
      attempt_failures_(prometheus::BuildCounter()
                            .Name("simclr_coordinator_attempt_failures_total")
                            .Help("Job attempts that failed (worker lost, rank failed, "
                                  "coordinator restart), whether or not the job restarted.")
                            .Register(registry)),
      restarts_(prometheus::BuildCounter()
                    .Name("simclr_coordinator_job_restarts_total")
                    .Help("Gang restarts from the latest checkpoint, by kind.")
                    .Register(registry)),
      queue_wait_(prometheus::BuildHistogram()
                      .Name("simclr_coordinator_queue_wait_seconds")
                      .Help("Time from QUEUED to RUNNING, by kind.")
                      .Register(registry)),
      stale_reports_(prometheus::BuildCounter()
                         .Name("simclr_coordinator_stale_reports_total")
                         .Help("Worker reports refused because their attempt is no longer "
                               "current (attempt fencing).")
                         .Register(registry)
                         .Add({})),
      rpc_(registry),
      state_(std::make_shared<StateCollector>(clock)) {
  RegisterInfoMetric(registry, "simclr_coordinator_info",
                     "What this coordinator is: its release version.", {});
  for (const JobKind& job_kind : AllJobKinds()) {
    const char* kind = job_kind.name;
    submitted_.Add({{"kind", kind}});
    restarts_.Add({{"kind", kind}});
    attempt_failures_.Add({{"kind", kind}});
    // Present from the start, so rate() sees the first observation too.
    queue_wait_.Add({{"kind", kind}}, QueueWaitBuckets());
    for (v1::JobState s : {v1::SUCCEEDED, v1::FAILED, v1::CANCELLED}) {
      finished_.Add({{"kind", kind}, {"state", v1::JobState_Name(s)}});
    }
  }
}

void CoordinatorMetrics::Attach(const Coordinator* coordinator) { state_->Attach(coordinator); }

std::shared_ptr<prometheus::Collectable> CoordinatorMetrics::StateCollectable() { return state_; }

void CoordinatorMetrics::OnTransition(const v1::Job& job, v1::JobState from) {
  const std::string& kind = job.spec().kind();
  if (from == v1::JOB_STATE_UNSPECIFIED) submitted_.Add({{"kind", kind}}).Increment();
  if (job.state() == v1::RUNNING && job.has_queued_at() && job.has_started_at()) {
    // A restart's wait is measured the same way, from its queued_at.
    const absl::Duration wait = clock_->Now() - FromProto(job.queued_at());
    queue_wait_.Add({{"kind", kind}}, QueueWaitBuckets()).Observe(absl::ToDoubleSeconds(wait));
  }
  if (from == v1::RUNNING && (job.state() == v1::QUEUED || job.state() == v1::FAILED) &&
      !job.reason().empty()) {
    attempt_failures_.Add({{"kind", kind}}).Increment();
  }
  if (IsFinal(job.state())) {
    finished_.Add({{"kind", kind}, {"state", v1::JobState_Name(job.state())}}).Increment();
  }
}

void CoordinatorMetrics::OnRestart(const v1::Job& job) {
  restarts_.Add({{"kind", job.spec().kind()}}).Increment();
}

void CoordinatorMetrics::OnStaleReport() { stale_reports_.Increment(); }

}  // namespace simclr::coordinator
