// A client's bearer token, kept in a file (e.g. a mounted Kubernetes Secret)
// and read again whenever the file changes, so a rotated token is used
// without a restart.
#ifndef SIMCLR_COMMON_TOKEN_FILE_H_
#define SIMCLR_COMMON_TOKEN_FILE_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace simclr {

// Thread-safe.
//
//   TokenFile token(path);
//   ASSIGN_OR_RETURN(std::string header, token.AuthorizationHeader());
//   if (!header.empty()) context.AddMetadata("authorization", header);
class TokenFile {
 public:
  // "" means no token (insecure mode).
  explicit TokenFile(std::string path) : path_(std::move(path)) {}

  // "Bearer <token>" (the file's first line, trimmed), or "" without a path.
  // FailedPrecondition naming the path when it cannot be read or is empty;
  // the token itself never appears in an error.
  absl::StatusOr<std::string> AuthorizationHeader() const;

 private:
  const std::string path_;
  mutable absl::Mutex mu_;
  mutable std::string stamp_ ABSL_GUARDED_BY(mu_);   // mtime and size last read
  mutable std::string header_ ABSL_GUARDED_BY(mu_);
};

}  // namespace simclr

#endif  // SIMCLR_COMMON_TOKEN_FILE_H_
