#include "model/loss/testing/reference_io.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace simclr::model::testing {

absl::Status WriteTensor(const std::string& path, const torch::Tensor& tensor) {
  torch::Tensor t = tensor.detach().to(torch::kFloat64).contiguous();
  std::ofstream out(path, std::ios::binary);
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  out << absl::StrJoin(t.sizes(), " ") << "\n";
  out.write(reinterpret_cast<const char*>(t.data_ptr<double>()),
            static_cast<std::streamsize>(t.numel() * sizeof(double)));
  if (!out) return absl::InternalError(absl::StrCat("short write to ", path));
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> ReadTensor(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string header;
  std::getline(in, header);
  std::istringstream dims_stream(header);
  std::vector<int64_t> dims;
  for (int64_t d; dims_stream >> d;) dims.push_back(d);
  torch::Tensor t = torch::empty(dims, torch::kFloat64);
  in.read(reinterpret_cast<char*>(t.data_ptr<double>()),
          static_cast<std::streamsize>(t.numel() * sizeof(double)));
  if (!in) return absl::DataLossError(absl::StrCat("truncated tensor in ", path));
  return t;
}

absl::Status RunPython(const std::string& script,
                       const std::vector<std::string>& args) {
  const std::string command =
      absl::StrCat("/usr/bin/python3 ", script, " ", absl::StrJoin(args, " "));
  const int rc = std::system(command.c_str());
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("`", command, "` exited with ", rc));
  }
  return absl::OkStatus();
}

std::string TestTempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::string RunfilePath(const std::string& workspace_relative) {
  const char* dir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (dir == nullptr) return workspace_relative;
  return absl::StrCat(dir, "/", workspace != nullptr ? workspace : "simclr", "/",
                      workspace_relative);
}

}  // namespace simclr::model::testing
