#include "common/clock.h"

#include "absl/time/clock.h"

namespace simclr {
namespace {

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

Clock& Clock::Real() {
  static Clock* const clock = new RealClock();
  return *clock;
}

}  // namespace simclr
