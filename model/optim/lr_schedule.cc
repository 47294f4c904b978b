#include "model/optim/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace simclr::model {
namespace {

constexpr double kPi = 3.14159265358979323846;

}  // namespace

absl::StatusOr<LrScaling> ParseLrScaling(absl::string_view name) {
  if (name == "linear") return LrScaling::kLinear;
  if (name == "sqrt") return LrScaling::kSqrt;
  return absl::InvalidArgumentError(absl::StrCat(
      "learning_rate_scaling is \"", name, "\"; expected \"linear\" or \"sqrt\""));
}

std::string LrScalingName(LrScaling scaling) {
  return scaling == LrScaling::kLinear ? "linear" : "sqrt";
}

absl::StatusOr<LrSchedule> LrSchedule::Create(const LrScheduleOptions& options) {
  if (!std::isfinite(options.base_learning_rate) ||
      options.base_learning_rate <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("base_learning_rate is ", options.base_learning_rate,
                     "; expected a positive finite number"));
  }
  if (options.batch_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch_size is ", options.batch_size, "; expected a positive number"));
  }
  if (options.warmup_steps < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "warmup_steps is ", options.warmup_steps, "; expected >= 0"));
  }
  if (options.total_steps <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "total_steps is ", options.total_steps, "; expected > 0"));
  }
  if (options.warmup_steps > options.total_steps) {
    return absl::InvalidArgumentError(absl::StrCat(
        "warmup_steps is ", options.warmup_steps,
        "; expected <= total_steps (", options.total_steps, ")"));
  }
  const double batch = static_cast<double>(options.batch_size);
  const double peak = options.scaling == LrScaling::kLinear
                          ? options.base_learning_rate * batch / 256.0
                          : options.base_learning_rate * std::sqrt(batch);
  return LrSchedule(options, peak);
}

double LrSchedule::LearningRate(int64_t step) const {
  step = std::max<int64_t>(step, 0);
  const int64_t warmup = options_.warmup_steps;
  const int64_t total = options_.total_steps;
  if (step < warmup) {
    return peak_ * static_cast<double>(step) / static_cast<double>(warmup);
  }
  if (step >= total) return 0.0;  // also covers warmup == total
  const double progress = static_cast<double>(step - warmup) /
                          static_cast<double>(total - warmup);
  return peak_ * 0.5 * (1.0 + std::cos(kPi * progress));
}

}  // namespace simclr::model
