// simclrctl: the command-line client of the coordinator. Reads the command
// line and the environment, then hands over to client/commands.h.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "client/command_line.h"
#include "client/client_config.h"
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
  absl::StatusOr<Invocation> inv = client::ParseCommandLine(args);
  if (!inv.ok()) {
    std::cerr << "error: " << inv.status().message()
              << "\nRun 'simclrctl --help' for usage.\n";
    return client::kExitUsage;
  }
  if (inv->verb == Invocation::Verb::kPrint) {
    std::cout << inv->text;
    return client::kExitOk;
  }

  // Flags (or their environment variables), then the config file's context.
  absl::StatusOr<client::Connection> context =
      client::LoadContext(client::DefaultConfigPath(), inv->context);
  if (!context.ok()) {
    std::cerr << "error: " << context.status().message() << "\n";
    return client::kExitUsage;
  }
  const client::Connection connection = client::ResolveConnection(inv->connection, *context);

  auto credentials = simclr::MakeChannelCredentials(
      {connection.ca, connection.cert, connection.key}, "--");
  if (!credentials.ok()) {
    std::cerr << "error: " << credentials.status().message() << "\n";
    return client::kExitUsage;
  }
  auto stub = simclr::v1::JobService::NewStub(
      client::CreateCoordinatorChannel(connection.coordinator, *credentials));
  absl::StatusOr<std::string> authorization =
      simclr::TokenFile(connection.token_file).AuthorizationHeader();
  if (!authorization.ok()) {
    std::cerr << "error: --token-file: " << authorization.status().message() << "\n";
    return client::kExitUsage;
  }
  client::CommandContext ctx;
  ctx.stub = stub.get();
  ctx.authorization = *authorization;
  ctx.coordinator = connection.coordinator;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;
  ctx.interactive = isatty(STDOUT_FILENO) != 0;
  ctx.terminal_width = TerminalWidth();

  const client::JobQuery query{inv->states, inv->label_selector, inv->limit, inv->chunk_size};
  switch (inv->verb) {
    case Invocation::Verb::kSubmit:
      return client::SubmitFile(ctx, inv->file, &std::cin);
    case Invocation::Verb::kGetJobs:
      if (inv->watch) return client::WatchJobs(ctx, query, inv->format, absl::Seconds(2));
      return client::GetJobs(ctx, query, inv->format);
    case Invocation::Verb::kGetJob:
      if (inv->metrics) return client::GetJobMetrics(ctx, inv->job, inv->format);
      return client::GetJob(ctx, inv->job, inv->format);
    case Invocation::Verb::kGetWorkers:
      return client::GetWorkers(ctx, inv->format);
    case Invocation::Verb::kDescribe:
      return client::Describe(ctx, inv->job);
    case Invocation::Verb::kCancel:
      return client::Cancel(ctx, inv->job);
    case Invocation::Verb::kWatch:
      return client::Watch(ctx, inv->job);
    case Invocation::Verb::kLogs:
      return client::Logs(ctx, inv->job, inv->rank, inv->attempt, inv->follow);
    case Invocation::Verb::kDelete:
      return client::Delete(ctx, inv->job, inv->cancel);
    case Invocation::Verb::kRetry:
      return client::Retry(ctx, inv->job);
    case Invocation::Verb::kPrint:
      break;
  }
  return client::kExitOk;
}
