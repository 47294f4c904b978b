// A free TCP port on loopback, for single-machine runs and tests.
#ifndef SIMCLR_COMMON_FREE_PORT_H_
#define SIMCLR_COMMON_FREE_PORT_H_

#include "absl/status/statusor.h"

namespace simclr {

// Returns a TCP port on 127.0.0.1 that was free a moment ago (the kernel's
// choice for port 0). Another process may take it before it is used.
absl::StatusOr<int> PickUnusedLoopbackPort();

}  // namespace simclr

#endif  // SIMCLR_COMMON_FREE_PORT_H_
