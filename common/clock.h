// Time, injected. Logic never reads the wall clock or sleeps on its own: it is
// handed a Clock, so tests drive time with FakeClock (common/testing).
#ifndef SIMCLR_COMMON_CLOCK_H_
#define SIMCLR_COMMON_CLOCK_H_

#include "absl/time/time.h"

namespace simclr {

// Thread-safe: implementations may be called from any thread.
class Clock {
 public:
  virtual ~Clock() = default;

  virtual absl::Time Now() const = 0;

  // The process-wide real clock. Never destroyed.
  static Clock& Real();
};

}  // namespace simclr

#endif  // SIMCLR_COMMON_CLOCK_H_
