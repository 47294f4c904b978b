// Learning-rate schedule of SimCLR pretraining and fine-tuning: the base rate
// is scaled by the batch size, warmed up linearly from 0, then decayed to 0
// along a half cosine (Chen et al. 2020, "A Simple Framework for Contrastive
// Learning of Visual Representations", Sec. B.1 and Sec. 4 of SimCLRv2).
#ifndef SIMCLR_MODEL_OPTIM_LR_SCHEDULE_H_
#define SIMCLR_MODEL_OPTIM_LR_SCHEDULE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace simclr::model {

// How the base learning rate grows with the global batch size.
enum class LrScaling {
  kLinear,  // peak = base * batch_size / 256  (paper: base 0.3)
  kSqrt,    // peak = base * sqrt(batch_size)  (paper: base 0.075)
};

// "linear" or "sqrt"; InvalidArgument otherwise.
absl::StatusOr<LrScaling> ParseLrScaling(absl::string_view name);
std::string LrScalingName(LrScaling scaling);

struct LrScheduleOptions {
  double base_learning_rate = 0.3;
  LrScaling scaling = LrScaling::kLinear;
  int64_t batch_size = 256;    // the global batch, over all ranks
  int64_t warmup_steps = 0;    // 0: start at the peak
  int64_t total_steps = 0;     // > 0, >= warmup_steps; the rate reaches 0 here
};

// Maps an optimizer step to its learning rate:
//   step <  warmup:  peak * step / warmup
//   step >= warmup:  peak * 0.5 * (1 + cos(pi * (step - warmup) / (total - warmup)))
// clamped to 0 at and after `total_steps` (and when warmup == total). Negative
// steps are treated as step 0. Immutable after Create, hence thread-safe.
//
//   ASSIGN_OR_RETURN(LrSchedule schedule, LrSchedule::Create(options));
//   optimizer.Step(schedule.LearningRate(step));
class LrSchedule {
 public:
  // InvalidArgument, naming the field, when base_learning_rate is not a
  // positive finite number, batch_size <= 0, warmup_steps < 0,
  // total_steps <= 0 or warmup_steps > total_steps.
  static absl::StatusOr<LrSchedule> Create(const LrScheduleOptions& options);

  double LearningRate(int64_t step) const;

  // The rate reached at the end of the warmup.
  double peak_learning_rate() const { return peak_; }
  const LrScheduleOptions& options() const { return options_; }

 private:
  LrSchedule(const LrScheduleOptions& options, double peak)
      : options_(options), peak_(peak) {}

  LrScheduleOptions options_;
  double peak_;
};

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_OPTIM_LR_SCHEDULE_H_
