// The release version, and the worker protocol: what a coordinator and a worker of possibly different
// builds must agree on to work together (the WorkerService messages, the
// TaskAssignment they carry, the artifact layout of
// model/checkpoint/checkpoint_files.h). Each side sends its version at
// registration and refuses the other's if it differs, with a message saying
// which side to upgrade.
#ifndef SIMCLR_COMMON_VERSION_H_
#define SIMCLR_COMMON_VERSION_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace simclr {

// The release: shown by the daemons' info metrics (simclr_coordinator_info,
// simclr_worker_info), the images' labels and `--version`.
inline constexpr char kVersion[] = "0.6.0";

// 1: per-attempt artifact directories, checkpoints pruned by the agent after
//    the coordinator's acknowledgement. (0: a build before versions were
//    exchanged.)
inline constexpr int kWorkerProtocolVersion = 1;

// The error either side gives when `other` ("worker" or "coordinator")
// speaks `other_version`: both versions, and which side to upgrade.
inline absl::Status ProtocolMismatch(absl::string_view other, int other_version,
                                     absl::string_view self) {
  return absl::FailedPreconditionError(absl::StrCat(
      "the ", other, " speaks worker protocol ", other_version, ", this ", self, " ",
      kWorkerProtocolVersion, "; upgrade the ",
      other_version < kWorkerProtocolVersion ? other : self, " (run both from one release)"));
}

}  // namespace simclr

#endif  // SIMCLR_COMMON_VERSION_H_
