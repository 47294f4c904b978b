// Creating the c10d process group a data-parallel gang runs its collectives on.
//
// Rendezvous (the c10d contract, applied to a gang of `world_size` ranks):
//   * Every rank calls CreateProcessGroup once per attempt with the same
//     master_address, prefix, world_size, timeout and backend, and its own
//     rank. Rank 0 serves a TCPStore on master_address's port; the others
//     connect to it. All keys live under `prefix`, so a restarted attempt with
//     a fresh prefix never reads a dead attempt's keys.
//   * The call returns once every rank has joined. If a rank does not show up
//     (or rank 0's store is unreachable) within `timeout`, it returns
//     DeadlineExceeded/Unavailable on the ranks that did show up; it never
//     blocks longer than about `timeout` per rendezvous step.
//   * Afterwards every rank issues the same collectives in the same order.
//     The group's timeout also bounds each collective: if a peer dies, the
//     pending collective fails (c10::Error from Work::wait) instead of hanging;
//     the group is then unusable and the gang must start a new attempt.
//   * Rank 0's store lives inside the returned group, so rank 0 must keep its
//     group alive until the others are done with theirs.
#ifndef SIMCLR_MODEL_DISTRIBUTED_PROCESS_GROUP_H_
#define SIMCLR_MODEL_DISTRIBUTED_PROCESS_GROUP_H_

#include <string>

#include <c10/util/intrusive_ptr.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace c10d {
class ProcessGroup;
}  // namespace c10d

namespace simclr::model {

struct ProcessGroupOptions {
  int rank = 0;
  int world_size = 1;
  // host:port where rank 0 serves the store ("127.0.0.1:29500"). Unused when
  // world_size == 1 (the store is then in-process).
  std::string master_address;
  // Namespace for this attempt's store keys; fresh for every attempt.
  std::string prefix;
  // Bounds the rendezvous and every collective.
  absl::Duration timeout = absl::Seconds(300);
  // "gloo" (CPU tensors) or "nccl" (CUDA tensors; only in builds where
  // LibTorch has NCCL, i.e. USE_C10D_NCCL is defined).
  std::string backend = "gloo";
  // Address this rank's Gloo transport binds to. Empty: 127.0.0.1 when
  // master_address's host is a loopback address (a one-machine gang),
  // otherwise this machine's hostname as c10d resolves it.
  std::string local_address;
};

// Joins the gang described by `options` and returns its process group (see
// the contract above). Errors: InvalidArgument naming the bad field;
// Unimplemented for "nccl" in a build without NCCL; DeadlineExceeded or
// Unavailable when the rendezvous does not complete within the timeout.
absl::StatusOr<c10::intrusive_ptr<c10d::ProcessGroup>> CreateProcessGroup(
    const ProcessGroupOptions& options);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_DISTRIBUTED_PROCESS_GROUP_H_
