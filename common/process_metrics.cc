#include "common/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <prometheus/gauge.h>
#include <prometheus/metric_family.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/version.h"

namespace simclr {
namespace {

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return prometheus::MetricFamily{name, help, type, {m}};
}

// The fields of /proc/self/stat after the command name (which may hold
// spaces and parentheses, so it is skipped up to the last ')'). Field 3 of
// proc(5) (state) is element 0.
std::vector<std::string> StatFields() {
  std::ifstream in("/proc/self/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t end_of_name = stat.rfind(')');
  if (end_of_name == std::string::npos) return {};
  return absl::StrSplit(stat.substr(end_of_name + 2), ' ', absl::SkipEmpty());
}

// Field n (1-based, as proc(5) numbers them) of /proc/self/stat.
double StatField(const std::vector<std::string>& fields, size_t n) {
  double value = 0;
  if (n >= 3 && n - 3 < fields.size()) (void)absl::SimpleAtod(fields[n - 3], &value);
  return value;
}

// Seconds since the epoch at which the machine booted (btime of /proc/stat).
double BootTime() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

class ProcessCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    const std::vector<std::string> stat = StatFields();
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    // proc(5): 14 utime, 15 stime, 22 starttime (ticks since boot),
    // 23 vsize (bytes), 24 rss (pages).
    const double cpu = (StatField(stat, 14) + StatField(stat, 15)) / ticks;
    const double start = boot_time_ + StatField(stat, 22) / ticks;

    std::error_code ec;
    double open_fds = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++open_fds;
    }
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);

    std::vector<prometheus::MetricFamily> families;
    families.push_back(Family("process_cpu_seconds_total",
                              "Total user and system CPU time spent in seconds.",
                              MetricType::Counter, cpu));
    families.push_back(Family("process_start_time_seconds",
                              "Start time of the process since unix epoch in seconds.",
                              MetricType::Gauge, start));
    families.push_back(Family("process_open_fds", "Number of open file descriptors.",
                              MetricType::Gauge, open_fds));
    families.push_back(Family("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, static_cast<double>(files.rlim_cur)));
    families.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                              MetricType::Gauge, StatField(stat, 23)));
    families.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.",
                              MetricType::Gauge, StatField(stat, 24) * page));
    return families;
  }

 private:
  const double boot_time_ = BootTime();
};

}  // namespace

std::shared_ptr<prometheus::Collectable> ProcessCollectable() {
  return std::make_shared<ProcessCollector>();
}

void RegisterInfoMetric(prometheus::Registry& registry, const std::string& name,
                        const std::string& help, std::map<std::string, std::string> labels) {
  labels["version"] = kVersion;
  prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add(labels).Set(1);
}

}  // namespace simclr
