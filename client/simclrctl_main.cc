// simclrctl: the command-line client of the coordinator. Reads the command
// line and the environment, then hands over to client/commands.h.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "client/cli_args.h"
#include "client/commands.h"
#include "common/tls_credentials.h"
#include "common/token_file.h"
#include "proto/simclr/v1/coordinator.grpc.pb.h"

namespace {

int TerminalWidth() {
  struct winsize size;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  if (const char* columns = std::getenv("COLUMNS")) {
    int n = std::atoi(columns);
    if (n > 0) return n;
  }
  return 80;
}

}  // namespace

int main(int argc, char** argv) {
  using simclr::client::Invocation;
  namespace client = simclr::client;

  std::vector<std::string> args(argv + 1, argv + argc);
  const char* env = std::getenv("SIMCLR_COORDINATOR");
  const char* env_token = std::getenv("SIMCLR_TOKEN_FILE");
  absl::StatusOr<Invocation> inv = client::ParseCommandLine(
      args, env == nullptr ? "" : env, env_token == nullptr ? "" : env_token);
  if (!inv.ok()) {
    std::cerr << "error: " << inv.status().message()
              << "\nRun 'simclrctl --help' for usage.\n";
    return client::kExitUsage;
  }
  if (inv->verb == Invocation::Verb::kHelp) {
    std::cout << inv->help_text;
    return client::kExitOk;
  }

  auto credentials = simclr::MakeChannelCredentials({inv->ca, inv->cert, inv->key}, "--");
  if (!credentials.ok()) {
    std::cerr << "error: " << credentials.status().message() << "\n";
    return client::kExitUsage;
  }
  auto stub = simclr::v1::JobService::NewStub(
      client::CreateCoordinatorChannel(inv->coordinator, *credentials));
  absl::StatusOr<std::string> authorization =
      simclr::TokenFile(inv->token_file).AuthorizationHeader();
  if (!authorization.ok()) {
    std::cerr << "error: --token-file: " << authorization.status().message() << "\n";
    return client::kExitUsage;
  }
  client::CommandContext ctx;
  ctx.stub = stub.get();
  ctx.authorization = *authorization;
  ctx.coordinator = inv->coordinator;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;
  ctx.interactive = isatty(STDOUT_FILENO) != 0;
  ctx.terminal_width = TerminalWidth();

  switch (inv->verb) {
    case Invocation::Verb::kSubmit:
      return client::SubmitFile(ctx, inv->file, &std::cin);
    case Invocation::Verb::kGetJobs:
      return client::GetJobs(ctx, inv->format);
    case Invocation::Verb::kGetJob:
      return client::GetJob(ctx, inv->job, inv->format);
    case Invocation::Verb::kGetWorkers:
      return client::GetWorkers(ctx, inv->format);
    case Invocation::Verb::kCancel:
      return client::Cancel(ctx, inv->job);
    case Invocation::Verb::kWatch:
      return client::Watch(ctx, inv->job);
    case Invocation::Verb::kHelp:
      break;
  }
  return client::kExitOk;
}
