// Abseil's mutexes as a release build runs them, for the daemons.
//
// Debian's Abseil is compiled without NDEBUG, so by default every
// absl::Mutex acquisition (gRPC's own locks included: gRPC 1.51 builds its
// mutexes on absl::Mutex) records itself in a global lock-order graph to
// detect potential deadlocks, and aborts when it finds one. At 10,000
// heartbeating workers that bookkeeping was about 3% of the coordinator's CPU
// (docs/performance.md). The daemons turn it off; tests, which link the same
// library, keep it on, so a lock-order inversion still fails them.
#ifndef SIMCLR_COMMON_RELEASE_MUTEXES_H_
#define SIMCLR_COMMON_RELEASE_MUTEXES_H_

#include "absl/synchronization/mutex.h"

namespace simclr {

// Call first in main, before any thread starts.
inline void UseReleaseMutexes() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace simclr

#endif  // SIMCLR_COMMON_RELEASE_MUTEXES_H_
