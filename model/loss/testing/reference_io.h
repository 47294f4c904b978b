// Exchanging float64 tensors with reference scripts run by /usr/bin/python3
// (Debian's PyTorch) in tests.
//
// File format (read by read_tensor() in reference_io.py): one ASCII line with
// the dimensions separated by spaces (empty for a scalar), '\n', then the
// values as little-endian float64 in row-major order.
#ifndef SIMCLR_MODEL_LOSS_TESTING_REFERENCE_IO_H_
#define SIMCLR_MODEL_LOSS_TESTING_REFERENCE_IO_H_

#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace simclr::model::testing {

// Writes `tensor` (any floating dtype, converted to float64) to `path`.
absl::Status WriteTensor(const std::string& path, const torch::Tensor& tensor);

// Reads a float64 tensor written by WriteTensor or reference_io.py.
absl::StatusOr<torch::Tensor> ReadTensor(const std::string& path);

// Runs `/usr/bin/python3 <script> <args...>`; Internal with the exit code if
// it fails. Arguments must not need shell quoting (paths, numbers).
absl::Status RunPython(const std::string& script,
                       const std::vector<std::string>& args);

// $TEST_TMPDIR (or /tmp when unset) joined with `name`.
std::string TestTempPath(const std::string& name);

// Path of a data dependency inside the test's runfiles, e.g.
// "model/loss/testing/nt_xent_reference.py".
std::string RunfilePath(const std::string& workspace_relative);

}  // namespace simclr::model::testing

#endif  // SIMCLR_MODEL_LOSS_TESTING_REFERENCE_IO_H_
