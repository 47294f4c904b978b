// Training checkpoints: named tensors (model parameters and buffers, optimiser
// state), the step and epoch, and opaque metadata bytes, in one file written
// atomically and checked on load.
//
// NOTE [checkpoint file format]
// All integers are little-endian. Offsets are from the start of the file.
//
//   [0, 8)    magic "SIMCLRCK"
//   [8, 12)   uint32 format version (1)
//   [12, 16)  uint32 header length H
//   [16, 24)  uint64 payload length P
//   [24, 28)  uint32 CRC-32 (zlib's, ISO 3309) of the header bytes
//   [28, 32)  uint32 CRC-32 of the payload bytes
//   [32, 32+H)  header:
//       int64 step, int64 epoch,
//       uint32 metadata length M, M metadata bytes,
//       uint32 tensor count T, then T entries:
//         uint32 name length N, N name bytes (UTF-8),
//         uint8 dtype code (see DtypeCode in checkpoint.cc), uint8 rank R,
//         R x int64 dims, uint64 payload offset, uint64 byte length
//   zero padding to a multiple of 64
//   payload (P bytes): each tensor's contiguous bytes at its offset (relative
//       to the payload start, 64-byte aligned), zero padding between tensors.
//   The file size is exactly payload start + P.
//
// Loading validates every header field against the file size before it
// allocates anything, reads each tensor's bytes straight into its own tensor
// (one copy: file -> tensor memory), and checks both CRCs.
//
// Writing goes to a temporary file in the destination directory
// (".<name>.tmp.XXXXXX"), which is fsync'ed, renamed over the destination and
// followed by an fsync of the directory: a reader sees the old file or the
// whole new one, never a torn one. Leftover temporary files (a crash between
// create and rename) never match the checkpoint name pattern and are ignored
// until RemoveTemporaryCheckpoints deletes them.
//
// Names, listing and retention of checkpoint files: checkpoint_files.h.
#ifndef SIMCLR_MODEL_CHECKPOINT_CHECKPOINT_H_
#define SIMCLR_MODEL_CHECKPOINT_CHECKPOINT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/checkpoint/checkpoint_files.h"

namespace simclr::model {

// Conventional name prefixes inside a training checkpoint: the model's
// named_parameters()/named_buffers() under kModelPrefix (e.g.
// "model.resnet.net.0.0.weight"), optimiser state under kOptimizerPrefix.
inline constexpr char kModelPrefix[] = "model.";
inline constexpr char kOptimizerPrefix[] = "optimizer.";
// The training objective's own state (worker/training/objectives.h), e.g.
// the memory of negatives and its key network.
inline constexpr char kObjectivePrefix[] = "objective.";

// A value type. Tensors may live on any device and have any layout; they are
// written as contiguous CPU tensors and always loaded on the CPU.
// Supported dtypes: float32/64, float16, bfloat16, int64/32/16/8, uint8, bool.
struct Checkpoint {
  int64_t step = 0;
  int64_t epoch = 0;
  // Opaque to this library: the job spec (serialized proto or JSON) etc.
  std::string metadata;
  // Model parameters and buffers, optimiser state, ... by name.
  std::map<std::string, torch::Tensor> tensors;
};

// Writes `checkpoint` to `path` atomically (see NOTE above). Errors:
// InvalidArgument for an undefined tensor or an unsupported dtype (naming the
// tensor), Internal/Unavailable-style errors from the file system naming the
// path and errno text. Thread-compatible: concurrent saves to different paths
// are fine.
absl::Status SaveCheckpoint(const std::string& path,
                            const Checkpoint& checkpoint);

// Reads a checkpoint written by SaveCheckpoint. Errors name `path` and what is
// wrong: NotFound (no such file), DataLoss (bad magic, truncated file, header
// fields inconsistent with the file, checksum mismatch), FailedPrecondition
// (a format version newer than this reader).
absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& path);

// The path of the newest checkpoint in `dir` that loads and verifies, skipping
// corrupt ones. NotFound if there is none (naming `dir`).
absl::StatusOr<std::string> LatestCheckpoint(const std::string& dir);

// Copies `module`'s named_parameters() and named_buffers() (recursive, dotted
// names as LibTorch reports them) into `checkpoint->tensors` as
// `prefix + name`, detached and cloned (later training does not change them).
// Undefined tensors (e.g. an absent bias) are skipped.
absl::Status ExportModuleState(const torch::nn::Module& module,
                               const std::string& prefix,
                               Checkpoint* checkpoint);

struct ImportOptions {
  // Only checkpoint tensors named `prefix + <module name>` are considered;
  // the prefix is stripped before matching (e.g. "encoder.").
  std::string prefix;
  // true: every module parameter/buffer must be present and no unexpected
  // checkpoint name may start with `prefix`. false: both are reported in
  // ImportReport and skipped. Shape mismatches are errors in both modes.
  bool strict = true;
};

struct ImportReport {
  std::vector<std::string> loaded;      // module names copied
  std::vector<std::string> missing;     // module names absent from the checkpoint
  std::vector<std::string> unexpected;  // checkpoint names (without prefix) not in the module
};

// Copies tensors from `tensors` into `module`'s parameters and buffers in
// place (under no_grad; values are converted to the destination's dtype and
// device). All names and shapes are checked before anything is copied, so an
// error leaves the module unchanged. InvalidArgument lists the missing /
// unexpected names (strict; the first 8 of each and a count) or the first
// shape mismatch.
absl::StatusOr<ImportReport> ImportModuleState(
    const std::map<std::string, torch::Tensor>& tensors,
    const ImportOptions& options, torch::nn::Module* module);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_CHECKPOINT_CHECKPOINT_H_
