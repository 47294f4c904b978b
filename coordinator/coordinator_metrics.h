// Prometheus metrics of the coordinator. The registry is created in main and
// handed in; nothing here is static.
//
// Counters and histograms are fed by CoordinatorObserver callbacks; gauges of
// current state (jobs by state, workers, heartbeat ages) are computed from the
// Coordinator at scrape time by StateCollectable(), so they cannot drift.
// Labels are bounded: kind, state, device, RPC method and code, worker id
// (workers are forgotten an hour after they go).
#ifndef SIMCLR_COORDINATOR_COORDINATOR_METRICS_H_
#define SIMCLR_COORDINATOR_COORDINATOR_METRICS_H_

#include <memory>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "common/clock.h"
#include "coordinator/coordinator.h"
#include "coordinator/rpc_metrics.h"

namespace simclr::coordinator {

// Thread-safe.
class CoordinatorMetrics final : public CoordinatorObserver {
 public:
  CoordinatorMetrics(prometheus::Registry& registry, const Clock* clock);  // clock not owned

  // Enables StateCollectable(); call once the Coordinator exists.
  void Attach(const Coordinator* coordinator);  // not owned

  void OnTransition(const v1::Job& job, v1::JobState from) override;
  void OnRestart(const v1::Job& job) override;
  void OnStaleReport() override;

  // simclr_coordinator_jobs, _oldest_queued_job_age_seconds, _workers,
  // _unhealthy_workers, _worker_heartbeat_age_seconds.
  std::shared_ptr<prometheus::Collectable> StateCollectable();

  RpcMetrics* rpc() { return &rpc_; }

 private:
  class StateCollector;

  const Clock* const clock_;
  prometheus::Family<prometheus::Counter>& submitted_;
  prometheus::Family<prometheus::Counter>& finished_;
  prometheus::Family<prometheus::Counter>& attempt_failures_;
  prometheus::Family<prometheus::Counter>& restarts_;
  prometheus::Family<prometheus::Histogram>& queue_wait_;
  prometheus::Counter& stale_reports_;
  RpcMetrics rpc_;
  std::shared_ptr<StateCollector> state_;
};

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_COORDINATOR_METRICS_H_
