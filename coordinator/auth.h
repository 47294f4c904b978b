// Who may call what: bearer tokens from a file the operator keeps, each
// naming a principal and its roles. Transport-free; the gRPC adapters hand
// it the request's "authorization" metadata. docs/security.md has the model.
#ifndef SIMCLR_COORDINATOR_AUTH_H_
#define SIMCLR_COORDINATOR_AUTH_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace simclr::coordinator {

// user: JobService (submit, get, list, watch, cancel its own jobs).
// worker: WorkerService, for the worker ids it registered.
// admin: everything a user may do, on every user's jobs.
enum class Role { kUser, kWorker, kAdmin };

// Who called. In insecure mode (no tokens configured) every caller is the
// anonymous principal "" with every role.
struct Principal {
  std::string name;
  std::set<Role> roles;

  bool Has(Role role) const { return roles.count(role) > 0; }
};

// True when `a` equals `b`, in time that depends on their lengths only, not
// on where they differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// Thread-safe. The tokens file holds one credential per line,
//
//   <token> <principal> <role>[,<role>...]     # e.g. 3f9a... alice user
//
// with '#' comments and blank lines ignored; roles are user, worker, admin.
// The file is read again when it changes (its modification time or size), so
// a token is rotated or revoked by rewriting the file, without a restart; a
// file that becomes unreadable or malformed keeps the last good table (and
// Authorize says so in the log once). Tokens are never logged or returned in
// an error.
class Authenticator {
 public:
  // Reads `tokens_path`; InvalidArgument naming the line for a malformed file,
  // FailedPrecondition for one that cannot be read or holds no credential.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(const std::string& tokens_path);

  // One that lets everybody in with every role (insecure mode).
  static std::unique_ptr<Authenticator> AllowAll();

  // One that knows no tokens: callers authenticate with client certificates
  // only (mutual TLS without --auth_tokens).
  static std::unique_ptr<Authenticator> CertificatesOnly();

  // `authorization` is the request's "authorization" metadata ("Bearer
  // <token>"; "" when absent). Unauthenticated when it is missing, malformed
  // or unknown; PermissionDenied when the principal lacks `needed` (an admin
  // has every user right).
  absl::StatusOr<Principal> Authorize(absl::string_view authorization, Role needed) const;

  // A caller that presented a client certificate the server verified (mutual
  // TLS): the principal is its common name, its roles the certificate's
  // organizations (O=user, O=worker, O=admin; others are ignored), as
  // Kubernetes takes a user's groups from O. PermissionDenied when it lacks
  // `needed`.
  absl::StatusOr<Principal> AuthorizeCertificate(const std::string& common_name,
                                                 const std::vector<std::string>& organizations,
                                                 Role needed) const;

 private:
  struct Credential {
    std::string token;
    Principal principal;
  };

  Authenticator(std::string tokens_path, bool allow_all)
      : path_(std::move(tokens_path)), allow_all_(allow_all) {}

  // Re-reads the file if it changed. Requires mu_ held.
  void ReloadIfChanged() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;  // "" = no tokens
  const bool allow_all_;
  mutable absl::Mutex mu_;
  mutable std::vector<Credential> credentials_ ABSL_GUARDED_BY(mu_);
  mutable std::string stamp_ ABSL_GUARDED_BY(mu_);  // mtime and size last read
};

// Parses a tokens file's text (see Authenticator). Exposed for tests.
absl::StatusOr<std::vector<std::pair<std::string, Principal>>> ParseTokens(
    absl::string_view text, const std::string& path);

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_AUTH_H_
