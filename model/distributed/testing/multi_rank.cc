#include "model/distributed/testing/multi_rank.h"

#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include "absl/strings/str_cat.h"
#include "common/loopback.h"
#include "model/distributed/process_group.h"

namespace simclr::model::testing {

absl::Status RunOnRanks(
    int world_size, const std::function<void(int, c10d::ProcessGroup&)>& fn,
    absl::Duration timeout) {
  absl::StatusOr<int> port = PickUnusedLoopbackPort();
  if (!port.ok()) return port.status();
  std::vector<c10::intrusive_ptr<c10d::ProcessGroup>> groups(world_size);
  std::vector<absl::Status> results(world_size);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < world_size; ++rank) {
    threads.emplace_back([&, rank] {
      ProcessGroupOptions options;
      options.rank = rank;
      options.world_size = world_size;
      options.master_address = absl::StrCat("127.0.0.1:", *port);
      options.prefix = "test";
      options.timeout = timeout;
      absl::StatusOr<c10::intrusive_ptr<c10d::ProcessGroup>> group =
          CreateProcessGroup(options);
      if (!group.ok()) {
        results[rank] = group.status();
        return;
      }
      groups[rank] = *group;
      try {
        fn(rank, *groups[rank]);
      } catch (const std::exception& e) {
        results[rank] =
            absl::InternalError(absl::StrCat("rank ", rank, ": ", e.what()));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& status : results) {
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace simclr::model::testing
