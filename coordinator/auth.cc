#include "coordinator/auth.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace simclr::coordinator {
namespace {

// "<mtime ns>:<size>", or "" when the file cannot be stat'ed.
std::string Stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  return absl::StrCat(st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, ":", st.st_size);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("tokens file ", path, ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

absl::StatusOr<std::vector<std::pair<std::string, Principal>>> ParseTokens(
    absl::string_view text, const std::string& path) {
  std::vector<std::pair<std::string, Principal>> out;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    // Errors name the line, never its text: it holds a secret.
    if (fields.size() != 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tokens file ", path, ":", line_number,
          ": expected \"<token> <principal> <role>[,<role>...]\""));
    }
    if (fields[0].size() < 16) {
      return absl::InvalidArgumentError(absl::StrCat("tokens file ", path, ":", line_number,
                                                     ": a token must have at least 16 characters"));
    }
    Principal principal;
    principal.name = std::string(fields[1]);
    for (absl::string_view role : absl::StrSplit(fields[2], ',')) {
      if (role == "user") {
        principal.roles.insert(Role::kUser);
      } else if (role == "worker") {
        principal.roles.insert(Role::kWorker);
      } else if (role == "admin") {
        principal.roles.insert(Role::kAdmin);
      } else {
        return absl::InvalidArgumentError(absl::StrCat("tokens file ", path, ":", line_number,
                                                       ": role \"", role,
                                                       "\", expected user, worker or admin"));
      }
    }
    out.emplace_back(std::string(fields[0]), std::move(principal));
  }
  if (out.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("tokens file ", path, ": no credentials"));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(
    const std::string& tokens_path) {
  auto auth = std::unique_ptr<Authenticator>(new Authenticator(tokens_path, false));
  const std::string stamp = Stamp(tokens_path);
  absl::StatusOr<std::string> text = ReadFile(tokens_path);
  if (!text.ok()) return text.status();
  auto parsed = ParseTokens(*text, tokens_path);
  if (!parsed.ok()) return parsed.status();
  absl::MutexLock lock(&auth->mu_);
  for (auto& [token, principal] : *parsed) {
    auth->credentials_.push_back(Credential{std::move(token), std::move(principal)});
  }
  auth->stamp_ = stamp;
  return auth;
}

std::unique_ptr<Authenticator> Authenticator::AllowAll() {
  return std::unique_ptr<Authenticator>(new Authenticator("", true));
}

std::unique_ptr<Authenticator> Authenticator::CertificatesOnly() {
  return std::unique_ptr<Authenticator>(new Authenticator("", false));
}

namespace {

absl::Status CheckRole(const Principal& principal, Role needed) {
  const bool allowed =
      principal.Has(needed) || (needed == Role::kUser && principal.Has(Role::kAdmin));
  if (allowed) return absl::OkStatus();
  const char* what = needed == Role::kWorker ? "the worker API" : "the job API";
  return absl::PermissionDeniedError(
      absl::StrCat("principal \"", principal.name, "\" may not use ", what));
}

}  // namespace

absl::StatusOr<Principal> Authenticator::AuthorizeCertificate(
    const std::string& common_name, const std::vector<std::string>& organizations,
    Role needed) const {
  Principal principal;
  principal.name = common_name;
  for (const std::string& o : organizations) {
    if (o == "user") principal.roles.insert(Role::kUser);
    if (o == "worker") principal.roles.insert(Role::kWorker);
    if (o == "admin") principal.roles.insert(Role::kAdmin);
  }
  if (common_name.empty()) {
    return absl::UnauthenticatedError("the client certificate has no common name");
  }
  absl::Status allowed = CheckRole(principal, needed);
  if (!allowed.ok()) return allowed;
  return principal;
}

void Authenticator::ReloadIfChanged() const {
  const std::string stamp = Stamp(path_);
  if (stamp.empty() || stamp == stamp_) return;
  absl::StatusOr<std::string> text = ReadFile(path_);
  auto parsed = text.ok() ? ParseTokens(*text, path_) : text.status();
  stamp_ = stamp;  // a bad file is reported once, not on every call
  if (!parsed.ok()) {
    std::fprintf(stderr, "simclr-coordinator: keeping the previous tokens: %s\n",
                 std::string(parsed.status().message()).c_str());
    return;
  }
  credentials_.clear();
  for (auto& [token, principal] : *parsed) {
    credentials_.push_back(Credential{std::move(token), std::move(principal)});
  }
}

absl::StatusOr<Principal> Authenticator::Authorize(absl::string_view authorization,
                                                   Role needed) const {
  if (allow_all_) return Principal{"", {Role::kUser, Role::kWorker, Role::kAdmin}};
  absl::string_view token = authorization;
  if (!absl::ConsumePrefix(&token, "Bearer ") || token.empty()) {
    return absl::UnauthenticatedError(
        "no credentials: send \"authorization: Bearer <token>\" (simclrctl --token-file)");
  }
  absl::MutexLock lock(&mu_);
  if (!path_.empty()) ReloadIfChanged();
  const Principal* found = nullptr;
  for (const Credential& c : credentials_) {
    // Every credential is compared, so the time taken does not say which.
    if (ConstantTimeEquals(c.token, token) && found == nullptr) found = &c.principal;
  }
  if (found == nullptr) return absl::UnauthenticatedError("unknown or revoked token");
  absl::Status allowed = CheckRole(*found, needed);
  if (!allowed.ok()) return allowed;
  return *found;
}

}  // namespace simclr::coordinator
