// Time, injected. Logic never reads the wall clock or sleeps on its own: it is
// handed a Clock, and waits through it, so tests drive time with FakeClock
// (common/testing).
#ifndef SIMCLR_COMMON_CLOCK_H_
#define SIMCLR_COMMON_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace simclr {

// Thread-safe: implementations may be called from any thread.
class Clock {
 public:
  virtual ~Clock() = default;

  virtual absl::Time Now() const = 0;

  // A wait that another thread cancels by making `condition` true: blocks on
  // `mu` (held by the caller, released while waiting, as absl::Mutex::Await
  // does) until `condition` holds or this clock reaches `deadline`. Returns
  // whether `condition` holds. A FakeClock ends the wait when it is advanced
  // past `deadline`.
  virtual bool AwaitUntil(absl::Mutex& mu, const absl::Condition& condition,
                          absl::Time deadline) const = 0;

  // AwaitUntil(mu, condition, Now() + timeout).
  bool AwaitFor(absl::Mutex& mu, const absl::Condition& condition,
                absl::Duration timeout) const {
    return AwaitUntil(mu, condition, Now() + timeout);
  }

  // The process-wide real clock. Never destroyed.
  static Clock& Real();
};

}  // namespace simclr

#endif  // SIMCLR_COMMON_CLOCK_H_
