// Local addresses: loopback ones told apart from others, a free port, and
// the address this machine reaches a peer from.
#ifndef SIMCLR_COMMON_LOOPBACK_H_
#define SIMCLR_COMMON_LOOPBACK_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace simclr {

// Returns a TCP port on 127.0.0.1 that was free a moment ago (the kernel's
// choice for port 0). Another process may take it before it is used.
absl::StatusOr<int> PickUnusedLoopbackPort();

// True for a host only this machine reaches: localhost, 127.0.0.0/8, ::1
// (bracketed or not).
bool IsLoopbackHost(absl::string_view host);

// The address of this machine's interface that traffic to `host_port`
// ("host:port", "[v6]:port") leaves from, as the routing table chooses it:
// "127.0.0.1" toward a loopback peer, the pod's or host's own address toward
// a coordinator elsewhere; IPv6 addresses bracketed. Sends nothing (a UDP
// socket is connected, which only picks a route). InvalidArgument when
// `host_port` is not host:port, Unavailable when the host does not resolve
// or no route leads to it.
absl::StatusOr<std::string> LocalAddressToward(absl::string_view host_port);

}  // namespace simclr

#endif  // SIMCLR_COMMON_LOOPBACK_H_
