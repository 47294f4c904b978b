// absl::Status <-> grpc::Status, for the thin gRPC adapters.
#ifndef SIMCLR_COMMON_GRPC_STATUS_H_
#define SIMCLR_COMMON_GRPC_STATUS_H_

#include <string>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace simclr {

inline grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

inline absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

}  // namespace simclr

#endif  // SIMCLR_COMMON_GRPC_STATUS_H_
