#include "common/token_file.h"

#include <sys/stat.h>

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace simclr {

absl::StatusOr<std::string> TokenFile::AuthorizationHeader() const {
  if (path_.empty()) return std::string();
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("token file ", path_, ": cannot read"));
  }
  const std::string stamp =
      absl::StrCat(st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, ":", st.st_size, ":", st.st_ino);
  absl::MutexLock lock(&mu_);
  if (stamp == stamp_) return header_;
  std::ifstream in(path_);
  std::string line;
  std::getline(in, line);
  const std::string token(absl::StripAsciiWhitespace(line));
  if (!in && !in.eof()) {
    return absl::FailedPreconditionError(absl::StrCat("token file ", path_, ": cannot read"));
  }
  if (token.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("token file ", path_, ": empty"));
  }
  stamp_ = stamp;
  header_ = "Bearer " + token;
  return header_;
}

}  // namespace simclr
