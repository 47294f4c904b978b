// simclrctl's configuration file: kubectl-style contexts, each naming a
// coordinator and the credentials to reach it, so users do not repeat flags.
//
//   # ~/.config/simclr/config.yaml (or $SIMCLR_CONFIG)
//   current-context: prod
//   contexts:
//     - name: prod
//       coordinator: simclr.example.com:50051
//       token-file: prod.token        # relative to this file's folder
//       ca: ca.pem                    # TLS; cert and key for mutual TLS
//     - name: local
//       coordinator: 127.0.0.1:50051
//
// Precedence: a flag, then the environment ($SIMCLR_COORDINATOR,
// $SIMCLR_TOKEN_FILE), then the context, then the default address.
#ifndef SIMCLR_CLIENT_CLIENT_CONFIG_H_
#define SIMCLR_CLIENT_CLIENT_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"

namespace simclr::client {

// Where and how to reach the coordinator; "" = not set.
struct Connection {
  std::string coordinator;  // HOST:PORT
  std::string token_file;
  std::string ca;
  std::string cert;
  std::string key;
};

// `high`'s fields where set, else `low`'s.
Connection Layer(const Connection& low, const Connection& high);

// Where to connect: `flags` (or their environment variables, which the
// command line reads) over the config's `context` over the default address
// (localhost:50051).
Connection ResolveConnection(const Connection& flags, const Connection& context);

// $SIMCLR_CONFIG, else $HOME/.config/simclr/config.yaml ("" without HOME).
std::string DefaultConfigPath();

// The context `name` of the config file at `path` ("" = its current-context;
// none set = an empty Connection). A missing file is an empty Connection,
// unless a context was named (NotFound). InvalidArgument names the file and
// the key for malformed YAML, an unknown key or an unknown context. Paths in
// the file are relative to its folder; "~/" is the home folder.
absl::StatusOr<Connection> LoadContext(const std::string& path, const std::string& name);

}  // namespace simclr::client

#endif  // SIMCLR_CLIENT_CLIENT_CONFIG_H_
