// The state gauges computed at scrape time (StateCollectable).
#include "coordinator/coordinator_metrics.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "common/testing/fake_clock.h"
#include "common/version.h"
#include "coordinator/coordinator.h"
#include "coordinator/testing/in_memory_job_store.h"
#include "gtest/gtest.h"

namespace simclr::coordinator {
namespace {

// worker id -> value of simclr_coordinator_worker_heartbeat_age_seconds.
std::map<std::string, double> LateAges(prometheus::Collectable& state) {
  std::map<std::string, double> ages;
  for (const prometheus::MetricFamily& family : state.Collect()) {
    if (family.name != "simclr_coordinator_worker_heartbeat_age_seconds") continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        if (label.name == "worker") ages[label.value] = metric.gauge.value;
      }
    }
  }
  return ages;
}

TEST(CoordinatorMetricsTest, OnlyWorkersThatMissedABeatGetAnAgeSeries) {
  FakeClock clock;
  InMemoryJobStore store;
  CoordinatorOptions options;
  options.registry.heartbeat_interval = absl::Seconds(2);
  options.registry.missed_heartbeats = 3;
  prometheus::Registry registry;
  CoordinatorMetrics metrics(registry, &clock);
  auto coordinator = Coordinator::Create(options, &store, &clock, &metrics);
  ASSERT_TRUE(coordinator.ok()) << coordinator.status();
  metrics.Attach(coordinator->get());

  std::vector<std::string> ids;
  for (const char* name : {"on-time", "just-after-its-interval", "missed-one"}) {
    v1::RegisterWorkerRequest request;
    request.set_name(name);
    request.set_protocol_version(kWorkerProtocolVersion);
    request.set_collective_address("127.0.0.1:1");
    auto registered = (*coordinator)->RegisterWorker(request, "");
    ASSERT_TRUE(registered.ok()) << registered.status();
    ids.push_back(registered->worker_id());
  }
  auto beat = [&](const std::string& id) {
    v1::HeartbeatRequest request;
    request.set_worker_id(id);
    ASSERT_TRUE((*coordinator)->Heartbeat(request).ok());
  };
  // Ages at the scrape, 3.5 s after registering: 0.5 s; 2.05 s, a beat a
  // few milliseconds behind its interval (as some of a fleet's always are,
  // its beats spread over the interval); and 3.5 s, a beat missed.
  clock.Advance(absl::Milliseconds(1450));
  beat(ids[1]);
  clock.Advance(absl::Milliseconds(1550));
  beat(ids[0]);
  clock.Advance(absl::Milliseconds(500));

  const std::map<std::string, double> ages = LateAges(*metrics.StateCollectable());
  EXPECT_EQ(ages.count("on-time"), 0u);
  EXPECT_EQ(ages.count("just-after-its-interval"), 0u);
  ASSERT_EQ(ages.count("missed-one"), 1u);
  EXPECT_DOUBLE_EQ(ages.at("missed-one"), 3.5);
}

}  // namespace
}  // namespace simclr::coordinator
