// The verbs of simclrctl, each run against a JobService stub so that tests
// can use an in-process server. Each returns the process exit code and
// writes results to `out` and errors to `err`:
//
//   0  ok (watch: the job SUCCEEDED)
//   1  the job failed or was cancelled, or it was not found (NOT_FOUND)
//   2  usage error or invalid spec (INVALID_ARGUMENT, ALREADY_EXISTS,
//      FAILED_PRECONDITION from the coordinator, YAML errors, unreadable file)
//   3  the coordinator is unreachable (UNAVAILABLE, DEADLINE_EXCEEDED); the
//      message names the address
#ifndef SIMCLR_CLIENT_COMMANDS_H_
#define SIMCLR_CLIENT_COMMANDS_H_

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/output.h"
#include "common/clock.h"
#include "grpcpp/grpcpp.h"
#include "proto/simclr/v1/coordinator.grpc.pb.h"

namespace simclr::client {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,
  kExitUsage = 2,
  kExitUnavailable = 3,
};

// Everything a verb needs. Nothing is owned; all must outlive the call.
struct CommandContext {
  v1::JobService::StubInterface* stub = nullptr;
  std::string coordinator;  // the address, for error messages
  std::string authorization;  // "Bearer <token>" sent with every call; "" = none
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // Time as displayed (ages, ETA); RPC deadlines use the system clock.
  const Clock* clock = &Clock::Real();
  // Deadline of each unary RPC; watch has none.
  absl::Duration rpc_timeout = absl::Seconds(30);
  // stdout is a terminal: watch redraws one line in place.
  bool interactive = false;
  int terminal_width = 80;
};

// The one place a channel to the coordinator is made.
std::shared_ptr<grpc::Channel> CreateCoordinatorChannel(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials);

// Exit code for an RPC status; also prints the error to ctx.err, naming
// `what` was attempted and, when unreachable, the coordinator's address.
int ReportRpcError(const CommandContext& ctx, absl::string_view what,
                   const grpc::Status& status);

// submit -f PATH: reads PATH ("-" reads `stdin_stream`), parses every spec
// and sends them in one SubmitJobs request; prints the job ids, one a line.
int SubmitFile(const CommandContext& ctx, const std::string& path,
               std::istream* stdin_stream);
// The same, for text already read; `source` names it in errors.
int SubmitText(const CommandContext& ctx, absl::string_view source,
               absl::string_view yaml_text);

// Which jobs `get jobs` lists.
struct JobQuery {
  std::vector<v1::JobState> states;  // empty: all
  std::string label_selector;        // "key=value,..."; "" = any
  int limit = 0;                     // 0: every job, page after page
  int page_size = 0;                 // per request; 0: the coordinator's default
};

// Lists the jobs page by page (ListJobs' page_token) and prints them.
int GetJobs(const CommandContext& ctx, const JobQuery& query, OutputFormat format);
// get jobs --watch: the table, then every row that changes, as the jobs are
// polled every `interval`; `polls` rounds (0: until interrupted).
int WatchJobs(const CommandContext& ctx, const JobQuery& query, OutputFormat format,
              absl::Duration interval, int polls = 0);
int GetJob(const CommandContext& ctx, const std::string& job, OutputFormat format);
// get job --metrics: the training curve, a table of steps (or the JobMetrics
// message as JSON or YAML).
int GetJobMetrics(const CommandContext& ctx, const std::string& job, OutputFormat format);
int GetWorkers(const CommandContext& ctx, OutputFormat format);

// Prints the job and its events (client/describe.h).
int Describe(const CommandContext& ctx, const std::string& job);

// Requests cancellation; prints the job's id, name and state.
int Cancel(const CommandContext& ctx, const std::string& job);

// Follows the job until the coordinator ends the stream after a final state;
// prints the final state and reason. 0 on SUCCEEDED, 1 otherwise.
int Watch(const CommandContext& ctx, const std::string& job);

// Writes a trainer's log to ctx.out as the coordinator streams it; with
// `follow`, until the job ends, marking where a later attempt's log begins.
int Logs(const CommandContext& ctx, const std::string& job, int rank, int attempt, bool follow);

// Deletes the job and its artifacts. With `cancel`, cancels it first and
// retries the deletion while its gang stops (up to `stop_timeout`).
int Delete(const CommandContext& ctx, const std::string& job, bool cancel,
           absl::Duration stop_timeout = absl::Seconds(60));

// Submits the job's spec as submitted again, named "<name>-retry-<n>" with
// the first n whose name no job has; prints the new job's id.
int Retry(const CommandContext& ctx, const std::string& job);

}  // namespace simclr::client

#endif  // SIMCLR_CLIENT_COMMANDS_H_
