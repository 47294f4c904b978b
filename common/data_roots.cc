#include "common/data_roots.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace simclr {
namespace {

// True if `path` is `root` or below it; both absolute and normal.
bool IsUnder(const std::filesystem::path& path, const std::filesystem::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a trailing "/" of the root
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

}  // namespace

absl::Status CheckUnderDataRoots(const std::string& field, const std::string& path,
                                 const std::vector<std::string>& roots, bool resolve_links) {
  if (roots.empty()) return absl::OkStatus();
  const std::string expected =
      absl::StrCat("an absolute path under one of the data roots (", absl::StrJoin(roots, ", "),
                   ")");
  std::filesystem::path p(path);
  if (path.empty() || !p.is_absolute()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": got \"", path, "\", expected ", expected));
  }
  p = p.lexically_normal();
  if (resolve_links) {
    std::error_code ec;
    const std::filesystem::path resolved = std::filesystem::weakly_canonical(p, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": cannot resolve \"", path, "\": ", ec.message()));
    }
    p = resolved;
  }
  for (const std::string& root : roots) {
    std::filesystem::path r = std::filesystem::path(root).lexically_normal();
    if (resolve_links) {
      std::error_code ec;
      const std::filesystem::path resolved = std::filesystem::weakly_canonical(r, ec);
      if (!ec) r = resolved;
    }
    if (IsUnder(p, r)) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": got \"", path, "\", expected ", expected));
}

}  // namespace simclr
