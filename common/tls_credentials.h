// gRPC credentials from PEM files, for the daemons and simclrctl: TLS, and
// mutual TLS when a client CA (server side) or a client certificate (client
// side) is given. docs/security.md says how to issue them.
#ifndef SIMCLR_COMMON_TLS_CREDENTIALS_H_
#define SIMCLR_COMMON_TLS_CREDENTIALS_H_

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "absl/status/statusor.h"

namespace simclr {

// A client's files. All empty: plaintext.
struct ClientTlsFiles {
  std::string ca;    // CA that signed the server's certificate
  std::string cert;  // this client's certificate (mutual TLS), with `key`
  std::string key;
};

// A server's files. cert and key empty: plaintext.
struct ServerTlsFiles {
  std::string cert;
  std::string key;
  // When set, every client must present a certificate this CA signed.
  std::string client_ca;
};

// InvalidArgument naming the flag (`flag_prefix` + "ca", "cert", "key") of a
// file that cannot be read or a certificate without its key.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTlsFiles& files, const std::string& flag_prefix);
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsFiles& files, const std::string& flag_prefix);

}  // namespace simclr

#endif  // SIMCLR_COMMON_TLS_CREDENTIALS_H_
