// The first line of every gRPC handler: who calls, and may they.
#ifndef SIMCLR_COORDINATOR_GRPC_AUTH_H_
#define SIMCLR_COORDINATOR_GRPC_AUTH_H_

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "coordinator/auth.h"

namespace simclr::coordinator {

// The caller of `context` if it holds `role`; Unauthenticated or
// PermissionDenied otherwise. `auth` null: insecure mode, everybody may.
inline absl::StatusOr<Principal> AuthorizeCall(const Authenticator* auth,
                                               const grpc::ServerContext* context, Role role) {
  if (auth == nullptr) return Principal{"", {Role::kUser, Role::kWorker, Role::kAdmin}};
  const auto& metadata = context->client_metadata();
  const auto it = metadata.find("authorization");
  const absl::string_view value =
      it == metadata.end() ? absl::string_view() : absl::string_view(it->second.data(),
                                                                       it->second.size());
  return auth->Authorize(value, role);
}

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_GRPC_AUTH_H_
