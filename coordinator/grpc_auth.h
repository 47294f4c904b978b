// The first line of every gRPC handler: who calls, and may they.
#ifndef SIMCLR_COORDINATOR_GRPC_AUTH_H_
#define SIMCLR_COORDINATOR_GRPC_AUTH_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/security/auth_context.h>
#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "coordinator/auth.h"

namespace simclr::coordinator {

// The caller of `context` if it holds `role`; Unauthenticated or
// PermissionDenied otherwise. A bearer token wins; without one, a client
// certificate the TLS handshake verified speaks for the caller. `auth` null:
// insecure mode, everybody may.
inline absl::StatusOr<Principal> AuthorizeCall(const Authenticator* auth,
                                               const grpc::ServerContext* context, Role role) {
  if (auth == nullptr) return Principal{"", {Role::kUser, Role::kWorker, Role::kAdmin}};
  const auto& metadata = context->client_metadata();
  const auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    const std::shared_ptr<const grpc::AuthContext> peer = context->auth_context();
    if (peer != nullptr && peer->IsPeerAuthenticated()) {
      const std::vector<grpc::string_ref> names = peer->FindPropertyValues("x509_common_name");
      std::vector<std::string> organizations;
      for (const grpc::string_ref& subject : peer->FindPropertyValues("x509_subject")) {
        // RFC 2253 form, e.g. "O=worker,CN=pool-a".
        for (absl::string_view part :
             absl::StrSplit(absl::string_view(subject.data(), subject.size()), ',')) {
          if (absl::ConsumePrefix(&part, "O=")) organizations.emplace_back(part);
        }
      }
      if (!names.empty()) {
        return auth->AuthorizeCertificate(std::string(names[0].data(), names[0].size()),
                                          organizations, role);
      }
    }
    return auth->Authorize("", role);
  }
  return auth->Authorize(absl::string_view(it->second.data(), it->second.size()), role);
}

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_GRPC_AUTH_H_
