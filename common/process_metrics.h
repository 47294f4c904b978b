// The standard process metrics of the Prometheus client libraries, which
// prometheus-cpp does not provide, and the info-metric pattern. Read from
// /proc at scrape time (Linux):
//
//   process_cpu_seconds_total        user + system CPU of this process
//   process_start_time_seconds       since the Unix epoch
//   process_open_fds, process_max_fds
//   process_resident_memory_bytes, process_virtual_memory_bytes
//
// Names, types and units follow the Prometheus client conventions
// (prometheus.io/docs/instrumenting/writing_clientlibs/#process-metrics), so
// dashboards and alerts written for other services work unchanged.
#ifndef SIMCLR_COMMON_PROCESS_METRICS_H_
#define SIMCLR_COMMON_PROCESS_METRICS_H_

#include <map>
#include <memory>
#include <string>

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

namespace simclr {

// The metrics of the calling process, computed at each scrape.
std::shared_ptr<prometheus::Collectable> ProcessCollectable();

// Registers `<name>{version="<kVersion>", <labels>} 1`: a constant gauge whose
// labels say what the process is (join it onto other series with
// `* on(instance) group_left(version) <name>`).
void RegisterInfoMetric(prometheus::Registry& registry, const std::string& name,
                        const std::string& help, std::map<std::string, std::string> labels);

}  // namespace simclr

#endif  // SIMCLR_COMMON_PROCESS_METRICS_H_
