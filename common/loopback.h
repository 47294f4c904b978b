// Loopback addresses: telling them apart, and a free port on one.
#ifndef SIMCLR_COMMON_LOOPBACK_H_
#define SIMCLR_COMMON_LOOPBACK_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace simclr {

// Returns a TCP port on 127.0.0.1 that was free a moment ago (the kernel's
// choice for port 0). Another process may take it before it is used.
absl::StatusOr<int> PickUnusedLoopbackPort();

// True for a host only this machine reaches: localhost, 127.0.0.0/8, ::1
// (bracketed or not).
bool IsLoopbackHost(absl::string_view host);

}  // namespace simclr

#endif  // SIMCLR_COMMON_LOOPBACK_H_
