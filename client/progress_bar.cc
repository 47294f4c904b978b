#include "client/progress_bar.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/output.h"

namespace simclr::client {
namespace {

constexpr int kMaxBarWidth = 40;
constexpr int kMinBarWidth = 8;

std::optional<double> Metric(const v1::Job& job, const std::string& name) {
  auto it = job.metrics().find(name);
  if (it == job.metrics().end()) return std::nullopt;
  return it->second;
}

bool IsFinal(v1::JobState state) {
  return state == v1::SUCCEEDED || state == v1::FAILED ||
         state == v1::CANCELLED;
}

struct Field {
  std::string text;
  int priority;  // lower is dropped first
};

}  // namespace

std::string FormatEta(absl::Duration eta) {
  int64_t seconds = std::max<int64_t>(0, absl::ToInt64Seconds(
                                             absl::Ceil(eta, absl::Seconds(1))));
  if (seconds >= 3600) {
    return absl::StrFormat("%d:%02d:%02d", seconds / 3600, seconds / 60 % 60,
                           seconds % 60);
  }
  return absl::StrFormat("%d:%02d", seconds / 60, seconds % 60);
}

void ProgressBar::Observe(const v1::Job& job) {
  const absl::Time now = clock_.Now();
  const int64_t step = job.progress().step();
  if (!observed_ || step < start_step_ || job.attempts() != start_attempt_) {
    start_time_ = now;
    start_step_ = step;
    start_attempt_ = job.attempts();
  }
  observed_ = true;
  last_time_ = now;
  job_ = job;
}

std::optional<absl::Duration> ProgressBar::Eta() const {
  if (!observed_ || job_.state() != v1::RUNNING) return std::nullopt;
  const int64_t total = job_.progress().total_steps();
  const int64_t step = job_.progress().step();
  if (total <= 0) return std::nullopt;
  if (step >= total) return absl::ZeroDuration();
  double steps_per_second = 0;
  const double elapsed = absl::ToDoubleSeconds(last_time_ - start_time_);
  if (step > start_step_ && elapsed > 0) {
    steps_per_second = (step - start_step_) / elapsed;
  } else if (auto ips = Metric(job_, "images_per_second");
             ips && *ips > 0 && job_.spec().train().batch_size() > 0) {
    steps_per_second = *ips / job_.spec().train().batch_size();
  }
  if (steps_per_second <= 0) return std::nullopt;
  return absl::Seconds((total - step) / steps_per_second);
}

std::string ProgressBar::Render(int width) const {
  const int64_t step = job_.progress().step();
  const int64_t total = job_.progress().total_steps();
  const double fraction =
      total > 0 ? std::clamp(static_cast<double>(step) / total, 0.0, 1.0) : 0;

  // Left to right as printed; `priority` decides what goes when it is narrow.
  std::vector<Field> fields;
  fields.push_back({job_.spec().name(), 1});
  fields.push_back({JobStateName(job_.state()), 6});
  const size_t bar_index = fields.size();
  fields.push_back({"", 0});  // the bar, sized below
  fields.push_back({total > 0 ? absl::StrFormat("%d/%d %d%%", step, total,
                                                static_cast<int>(
                                                    std::floor(100 * fraction)))
                              : absl::StrCat("step ", step),
                    5});
  if (auto loss = Metric(job_, "loss")) {
    fields.push_back({absl::StrFormat("loss %.4f", *loss), 3});
  }
  if (auto ips = Metric(job_, "images_per_second")) {
    fields.push_back({absl::StrFormat("%.0f img/s", *ips), 2});
  }
  if (!IsFinal(job_.state())) {
    std::optional<absl::Duration> eta = Eta();
    fields.push_back({absl::StrCat("ETA ", eta ? FormatEta(*eta) : "-"), 4});
  }
  // Why a job waits: "waiting for 4 cpu workers; 2 registered".
  if (IsWaiting() && !job_.reason().empty()) fields.push_back({job_.reason(), 5});

  // Printed length: the non-empty fields joined by single spaces.
  auto length = [&fields]() {
    int n = -1;
    for (const Field& f : fields) {
      if (!f.text.empty()) n += static_cast<int>(f.text.size()) + 1;
    }
    return std::max(n, 0);
  };
  // The bar takes what the text leaves, within [kMinBarWidth, kMaxBarWidth].
  int room = width - length() - 1 - 2;  // a separating space, two brackets
  if (room >= kMinBarWidth && total > 0) {
    int inner = std::min(room, kMaxBarWidth);
    int filled = static_cast<int>(std::floor(fraction * inner));
    fields[bar_index].text = absl::StrCat(
        "[", std::string(filled, '#'), std::string(inner - filled, '.'), "]");
  } else {
    fields.erase(fields.begin() + bar_index);
  }
  // Drop the least useful fields until the line fits.
  while (length() > width && fields.size() > 1) {
    auto lowest = std::min_element(
        fields.begin(), fields.end(),
        [](const Field& a, const Field& b) { return a.priority < b.priority; });
    fields.erase(lowest);
  }
  std::vector<std::string> parts;
  for (const Field& f : fields) {
    if (!f.text.empty()) parts.push_back(f.text);
  }
  std::string line = absl::StrJoin(parts, " ");
  if (width >= 0 && static_cast<int>(line.size()) > width) line.resize(width);
  return line;
}

bool ProgressBar::IsWaiting() const {
  return job_.state() == v1::PENDING || job_.state() == v1::QUEUED;
}

std::string ProgressBar::PlainLine() const {
  const int64_t step = job_.progress().step();
  const int64_t total = job_.progress().total_steps();
  std::string line = absl::StrCat(job_.spec().name(), " ",
                                  JobStateName(job_.state()), " step ", step);
  if (total > 0) {
    absl::StrAppend(&line, "/", total, " (",
                    static_cast<int>(std::floor(100.0 * step / total)), "%)");
  }
  if (auto loss = Metric(job_, "loss")) {
    absl::StrAppend(&line, absl::StrFormat(" loss %.4f", *loss));
  }
  if (auto lr = Metric(job_, "lr")) {
    absl::StrAppend(&line, absl::StrFormat(" lr %.4g", *lr));
  }
  if (auto ips = Metric(job_, "images_per_second")) {
    absl::StrAppend(&line, absl::StrFormat(" images/s %.0f", *ips));
  }
  if (std::optional<absl::Duration> eta = Eta()) {
    absl::StrAppend(&line, " ETA ", FormatEta(*eta));
  }
  if (IsWaiting() && !job_.reason().empty()) absl::StrAppend(&line, ": ", job_.reason());
  return line;
}

}  // namespace simclr::client
