// A Clock that moves only when a test says so.
#ifndef SIMCLR_COMMON_TESTING_FAKE_CLOCK_H_
#define SIMCLR_COMMON_TESTING_FAKE_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace simclr {

// Thread-safe. Starts at 2026-01-01T00:00:00Z unless told otherwise.
//
//   FakeClock clock;
//   registry.Heartbeat("w-1");
//   clock.Advance(absl::Seconds(7));
//   registry.ExpireLeases();  // w-1 is now lost
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1767225600))
      : now_(start) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }

  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

  // Waits in real time slices of a millisecond, so that a wait ends soon
  // after another thread advances the clock past `deadline`.
  bool AwaitUntil(absl::Mutex& mu, const absl::Condition& condition,
                  absl::Time deadline) const override {
    while (!condition.Eval()) {
      if (Now() >= deadline) return false;
      mu.AwaitWithTimeout(condition, absl::Milliseconds(1));
    }
    return true;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace simclr

#endif  // SIMCLR_COMMON_TESTING_FAKE_CLOCK_H_
