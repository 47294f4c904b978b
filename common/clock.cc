#include "common/clock.h"

#include "absl/time/clock.h"

namespace simclr {
namespace {

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }

  bool AwaitUntil(absl::Mutex& mu, const absl::Condition& condition,
                  absl::Time deadline) const override {
    return mu.AwaitWithDeadline(condition, deadline);
  }
};

}  // namespace

Clock& Clock::Real() {
  static Clock* const clock = new RealClock();
  return *clock;
}

}  // namespace simclr
