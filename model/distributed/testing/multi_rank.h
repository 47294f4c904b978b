// Runs a function on every rank of an in-process Gloo gang, for tests.
//
//   ASSERT_OK(RunOnRanks(2, [&](int rank, c10d::ProcessGroup& group) {
//     ... collectives on `group` ...
//   }));
//
// Each rank is a thread with its own ProcessGroupGloo, created through
// CreateProcessGroup over a TCPStore on a free loopback port, so the real
// rendezvous path is exercised. Groups outlive every rank's function.
#ifndef SIMCLR_MODEL_DISTRIBUTED_TESTING_MULTI_RANK_H_
#define SIMCLR_MODEL_DISTRIBUTED_TESTING_MULTI_RANK_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace c10d {
class ProcessGroup;
}  // namespace c10d

namespace simclr::model::testing {

// Calls fn(rank, group) on `world_size` threads at once and joins them.
// Returns the first error: a failed rendezvous, or an exception thrown by fn
// (as Internal, with the rank and the message). `timeout` bounds rendezvous
// and collectives.
absl::Status RunOnRanks(
    int world_size, const std::function<void(int, c10d::ProcessGroup&)>& fn,
    absl::Duration timeout = absl::Seconds(30));

}  // namespace simclr::model::testing

#endif  // SIMCLR_MODEL_DISTRIBUTED_TESTING_MULTI_RANK_H_
