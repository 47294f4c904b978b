// The worker protocol: what a coordinator and a worker of possibly different
// builds must agree on to work together (the WorkerService messages, the
// TaskAssignment they carry, the artifact layout of
// model/checkpoint/checkpoint_files.h). Each side sends its version at
// registration and refuses the other's if it differs, with a message saying
// which side to upgrade.
#ifndef SIMCLR_COMMON_VERSION_H_
#define SIMCLR_COMMON_VERSION_H_

namespace simclr {

// 1: per-attempt artifact directories, checkpoints pruned by the agent after
//    the coordinator's acknowledgement. (0: a build before versions were
//    exchanged.)
inline constexpr int kWorkerProtocolVersion = 1;

}  // namespace simclr

#endif  // SIMCLR_COMMON_VERSION_H_
