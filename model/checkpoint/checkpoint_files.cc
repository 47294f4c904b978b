#include "model/checkpoint/checkpoint_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace simclr::model {
namespace {

constexpr char kFilePrefix[] = "ckpt-";
constexpr char kFileSuffix[] = ".simclr";
constexpr char kTemporaryMarker[] = ".tmp.";

std::string ErrnoText() { return std::strerror(errno); }

// The names in `dir`; NotFound if it does not exist.
absl::StatusOr<std::vector<std::string>> ListNames(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("checkpoint directory ", dir, " does not exist"));
    }
    return absl::InternalError(absl::StrCat("listing ", dir, ": ", ErrnoText()));
  }
  std::vector<std::string> names;
  while (struct dirent* ent = ::readdir(d)) names.emplace_back(ent->d_name);
  ::closedir(d);
  return names;
}

absl::Status Unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(absl::StrCat("deleting ", path, ": ", ErrnoText()));
  }
  return absl::OkStatus();
}

}  // namespace

std::string AttemptDirectory(const std::string& artifact_dir, int attempt) {
  return absl::StrCat(artifact_dir, "/attempt-", attempt);
}

std::string RankLogPath(const std::string& artifact_dir, int attempt, int rank) {
  return absl::StrCat(AttemptDirectory(artifact_dir, attempt), "/rank-", rank, ".log");
}

std::string ProfileFileName(int rank) { return absl::StrCat("profile-rank-", rank, ".json"); }

std::string CheckpointFileName(int64_t step) {
  return absl::StrCat(kFilePrefix, step, kFileSuffix);
}

bool ParseCheckpointFileName(const std::string& name, int64_t* step) {
  const size_t prefix_len = sizeof(kFilePrefix) - 1;
  const size_t suffix_len = sizeof(kFileSuffix) - 1;
  if (name.size() <= prefix_len + suffix_len) return false;
  if (!absl::StartsWith(name, kFilePrefix) || !absl::EndsWith(name, kFileSuffix)) return false;
  const std::string digits = name.substr(prefix_len, name.size() - prefix_len - suffix_len);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  return absl::SimpleAtoi(digits, step);
}

std::string TemporaryCheckpointTemplate(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return absl::StrCat(dir, "/.", name, kTemporaryMarker, "XXXXXX");
}

absl::StatusOr<std::vector<std::string>> ListCheckpoints(const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> names = ListNames(dir);
  if (!names.ok()) return names.status();
  std::vector<std::pair<int64_t, std::string>> found;
  for (const std::string& name : *names) {
    int64_t step = 0;
    if (ParseCheckpointFileName(name, &step)) found.emplace_back(step, absl::StrCat(dir, "/", name));
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  paths.reserve(found.size());
  for (auto& [step, path] : found) paths.push_back(std::move(path));
  return paths;
}

absl::Status KeepLastCheckpoints(const std::string& dir, int keep, const std::string& protect) {
  if (keep < 1) {
    return absl::InvalidArgumentError(absl::StrCat("keep must be >= 1, got ", keep));
  }
  absl::StatusOr<std::vector<std::string>> paths = ListCheckpoints(dir);
  if (!paths.ok()) return paths.status();
  const size_t n = paths->size() > static_cast<size_t>(keep) ? paths->size() - keep : 0;
  bool deleted = false;
  for (size_t i = 0; i < n; ++i) {
    if ((*paths)[i] == protect) continue;
    absl::Status s = Unlink((*paths)[i]);
    if (!s.ok()) return s;
    deleted = true;
  }
  return deleted ? FsyncDirectory(dir) : absl::OkStatus();
}

absl::StatusOr<int> RemoveTemporaryCheckpoints(const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> names = ListNames(dir);
  if (absl::IsNotFound(names.status())) return 0;
  if (!names.ok()) return names.status();
  int removed = 0;
  for (const std::string& name : *names) {
    const size_t marker = name.rfind(kTemporaryMarker);
    int64_t step = 0;
    if (name.empty() || name[0] != '.' || marker == std::string::npos ||
        !ParseCheckpointFileName(name.substr(1, marker - 1), &step)) {
      continue;
    }
    absl::Status s = Unlink(absl::StrCat(dir, "/", name));
    if (!s.ok()) return s;
    ++removed;
  }
  if (removed > 0) {
    absl::Status s = FsyncDirectory(dir);
    if (!s.ok()) return s;
  }
  return removed;
}

absl::Status FsyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("opening directory ", dir, ": ", ErrnoText()));
  }
  const bool ok = ::fsync(fd) == 0;
  const std::string error = ok ? "" : ErrnoText();
  ::close(fd);
  if (!ok) return absl::InternalError(absl::StrCat("fsync of directory ", dir, ": ", error));
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  std::string tmp = TemporaryCheckpointTemplate(path);
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("creating a temporary file for ", path, ": ",
                                            ErrnoText()));
  }
  std::string error;
  for (size_t done = 0; error.empty() && done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = absl::StrCat("writing ", tmp, ": ", ErrnoText());
    done += n > 0 ? static_cast<size_t>(n) : 0;
  }
  if (error.empty() && ::fsync(fd) != 0) error = absl::StrCat("fsync of ", tmp, ": ", ErrnoText());
  if (::close(fd) != 0 && error.empty()) error = absl::StrCat("closing ", tmp, ": ", ErrnoText());
  if (error.empty() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    error = absl::StrCat("renaming ", tmp, " to ", path, ": ", ErrnoText());
  }
  if (!error.empty()) {
    ::unlink(tmp.c_str());
    return absl::InternalError(error);
  }
  const size_t slash = path.rfind('/');
  return FsyncDirectory(slash == std::string::npos ? "." : path.substr(0, std::max<size_t>(slash, 1)));
}

}  // namespace simclr::model
