#include "common/process_metrics.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <ctime>
#include <map>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include "common/version.h"
#include "gtest/gtest.h"

namespace simclr {
namespace {

std::map<std::string, double> Scrape() {
  std::map<std::string, double> values;
  for (const prometheus::MetricFamily& family : ProcessCollectable()->Collect()) {
    EXPECT_EQ(family.metric.size(), 1u) << family.name;
    const prometheus::ClientMetric& m = family.metric.at(0);
    values[family.name] =
        family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
  }
  return values;
}

TEST(ProcessMetricsTest, CpuTimeAgreesWithGetrusage) {
  volatile double sink = 0;
  for (int i = 0; i < 50'000'000; ++i) sink = sink + i * 0.5;  // about 0.1 s of CPU
  const double scraped = Scrape()["process_cpu_seconds_total"];
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double expected = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
                          usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  EXPECT_GT(scraped, 0.0);
  // /proc counts in clock ticks (10 ms): allow a few ticks either way.
  EXPECT_NEAR(scraped, expected, 0.05);
}

TEST(ProcessMetricsTest, StartTimeIsSinceTheEpochAndBeforeNow) {
  const double start = Scrape()["process_start_time_seconds"];
  const double now = static_cast<double>(std::time(nullptr));
  // This test process started moments ago, not at boot and not in 1970.
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 600);
}

TEST(ProcessMetricsTest, OpenFdsCountsDescriptorsAndMaxIsTheLimit) {
  const double before = Scrape()["process_open_fds"];
  const int fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(Scrape()["process_open_fds"], before + 1);
  close(fd);
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  EXPECT_EQ(Scrape()["process_max_fds"], static_cast<double>(files.rlim_cur));
}

TEST(ProcessMetricsTest, MemoryGrowsWithTouchedPages) {
  const std::map<std::string, double> before = Scrape();
  EXPECT_GT(before.at("process_virtual_memory_bytes"), before.at("process_resident_memory_bytes"));
  std::vector<char> block(64 << 20, 1);  // 64 MiB, touched
  const double after = Scrape()["process_resident_memory_bytes"];
  EXPECT_GE(after - before.at("process_resident_memory_bytes"), 60.0 * (1 << 20));
  EXPECT_EQ(block[12345], 1);
}

TEST(ProcessMetricsTest, InfoMetricCarriesTheVersionAndLabels) {
  prometheus::Registry registry;
  RegisterInfoMetric(registry, "simclr_test_info", "What this is.", {{"device", "cpu"}});
  const std::vector<prometheus::MetricFamily> families = registry.Collect();
  ASSERT_EQ(families.size(), 1u);
  ASSERT_EQ(families[0].metric.size(), 1u);
  EXPECT_EQ(families[0].metric[0].gauge.value, 1.0);
  std::map<std::string, std::string> labels;
  for (const auto& label : families[0].metric[0].label) labels[label.name] = label.value;
  EXPECT_EQ(labels["version"], kVersion);
  EXPECT_EQ(labels["device"], "cpu");
}

}  // namespace
}  // namespace simclr
