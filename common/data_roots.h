// Which files a job may name: paths in job specs (dataset directories, label
// index files) must lie under the data roots the operator configured, so a
// spec cannot make a worker read /etc/shadow or /dev/zero.
#ifndef SIMCLR_COMMON_DATA_ROOTS_H_
#define SIMCLR_COMMON_DATA_ROOTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace simclr {

// Returns OK when `path` is absolute and, once "." and ".." are resolved,
// lies under one of `roots` (or is one). With `resolve_links`, symbolic links
// are resolved first (the file must then exist up to its last component), so
// a link inside a root cannot point outside it; without, the check is lexical
// (the coordinator's, which cannot see the workers' files). An empty `roots`
// allows every path. InvalidArgument names `field`, the path and the roots;
// it never quotes the file's contents.
absl::Status CheckUnderDataRoots(const std::string& field, const std::string& path,
                                 const std::vector<std::string>& roots, bool resolve_links);

}  // namespace simclr

#endif  // SIMCLR_COMMON_DATA_ROOTS_H_
