// The names and lifetimes of checkpoint files, without reading them: torch-free,
// so the worker agent (which decides what may be deleted) links no LibTorch.
//
// Layout of a job's artifact directory (one directory per attempt, so that the
// gangs of two attempts never write the same file; NOTE [attempt fencing] in
// coordinator/coordinator.h):
//   <artifact_dir>/attempt-<A>/ckpt-<step>.simclr   checkpoints (rank 0)
//   <artifact_dir>/attempt-<A>/steps.jsonl          the step log (rank 0)
//   <artifact_dir>/attempt-<A>/rank-<R>.log         each trainer's output
//   <artifact_dir>/attempt-<A>/model.pt             the trained network for
//                                                   PyTorch (export.h; rank 0,
//                                                   when the job succeeds)
// A checkpoint is written to ".ckpt-<step>.simclr.tmp.XXXXXX" beside its final
// name and renamed over it (model/checkpoint/checkpoint.h).
#ifndef SIMCLR_MODEL_CHECKPOINT_CHECKPOINT_FILES_H_
#define SIMCLR_MODEL_CHECKPOINT_CHECKPOINT_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace simclr::model {

// "<artifact_dir>/attempt-<attempt>".
std::string AttemptDirectory(const std::string& artifact_dir, int attempt);

// "<artifact_dir>/attempt-<attempt>/rank-<rank>.log": a trainer's output.
std::string RankLogPath(const std::string& artifact_dir, int attempt, int rank);

// "profile-rank-<rank>.json": the Chrome trace of a profiled step
// (train.profile_step), in the attempt directory.
std::string ProfileFileName(int rank);

// The step log rank 0 writes in its attempt directory: one JSON object per
// step ({"step": 1, "epoch": 0.03, "time": 1764500000.25, "loss": 9.59, "lr": 0,
// ...}; time in seconds since the Unix epoch, when the step ended).
inline constexpr char kStepLogName[] = "steps.jsonl";

// The exported network's name in the attempt directory (export.h).
inline constexpr char kExportFileName[] = "model.pt";

// "ckpt-<step>.simclr".
std::string CheckpointFileName(int64_t step);

// True for "ckpt-<step>.simclr" (setting *step), false for anything else.
bool ParseCheckpointFileName(const std::string& name, int64_t* step);

// The mkstemp template of the temporary file that becomes `path`:
// "<dir>/.<name>.tmp.XXXXXX".
std::string TemporaryCheckpointTemplate(const std::string& path);

// Full paths of the files in `dir` named ckpt-<step>.simclr, sorted by step
// ascending. Other files (temporaries, foreign files) are ignored. NotFound if
// `dir` does not exist.
absl::StatusOr<std::vector<std::string>> ListCheckpoints(const std::string& dir);

// Deletes all but the `keep` newest checkpoints (by step) in `dir`, never
// `protect` (a full path; "" protects nothing): the checkpoint the coordinator
// has recorded outlives newer ones it has not heard of. keep must be >= 1
// (InvalidArgument otherwise).
absl::Status KeepLastCheckpoints(const std::string& dir, int keep,
                                 const std::string& protect = "");

// Deletes the temporary files that a writer left in `dir` when it died between
// creating and renaming one; returns how many. A missing `dir` has none.
absl::StatusOr<int> RemoveTemporaryCheckpoints(const std::string& dir);

// Writes `bytes` to `path` as a checkpoint is written: to a temporary file
// beside it (TemporaryCheckpointTemplate), fsync'ed, renamed over `path`, and
// the directory fsync'ed. Internal naming the file and errno text.
absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes);

// fsync(2) of a directory, so that renames and deletions in it are durable.
absl::Status FsyncDirectory(const std::string& dir);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_CHECKPOINT_CHECKPOINT_FILES_H_
