// The command line of simclrctl: verbs, flags, help and shell completion,
// defined once with CLI11. Parsing prints nothing; it reads the environment
// only for the flags' fallbacks ($SIMCLR_COORDINATOR, $SIMCLR_TOKEN_FILE).
//
//   simclrctl [--coordinator=HOST:PORT] VERB [ARGS] [FLAGS]
#ifndef SIMCLR_CLIENT_COMMAND_LINE_H_
#define SIMCLR_CLIENT_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/client_config.h"
#include "client/output.h"
#include "proto/simclr/v1/job.pb.h"

namespace simclr::client {

inline constexpr char kDefaultCoordinator[] = "localhost:50051";

// What the command line asks for.
struct Invocation {
  enum class Verb {
    kPrint,  // print `text` and exit 0: help, version, a completion script
    kSubmit,
    kGetJobs,
    kGetJob,
    kGetWorkers,
    kDescribe,
    kCancel,
    kWatch,
    kLogs,
    kDelete,
    kRetry,
  };
  Verb verb = Verb::kPrint;
  std::string text;  // kPrint
  // --coordinator, --token-file, --ca, --cert, --key, or their environment
  // variables ("" = neither); main layers them over the config file's context.
  Connection connection;
  std::string context;  // --context: a context of the config file
  std::string job;      // the ID|NAME argument
  std::string file;     // submit -f: path or "-"
  OutputFormat format = OutputFormat::kTable;  // get -o
  // get jobs
  std::vector<v1::JobState> states;  // --state: empty = all
  std::string label_selector;        // -l key=value,...
  int limit = 0;                     // --limit: 0 = every job
  int chunk_size = 0;                // --chunk-size: jobs per request, 0 = the coordinator's
  bool watch = false;                // --watch: print changes until interrupted
  // get job
  bool metrics = false;  // --metrics: the training curve instead of the job
  // logs
  int rank = 0;
  int attempt = 0;  // 0 = the latest
  bool follow = false;
  // delete
  bool cancel = false;
};

// Parses `args` (argv without the program name). Flags may come before or
// after the verb. Returns InvalidArgument naming the argument and what was
// expected: an unknown verb or flag, a missing or bad value, a missing or
// extra argument.
absl::StatusOr<Invocation> ParseCommandLine(const std::vector<std::string>& args);

}  // namespace simclr::client

#endif  // SIMCLR_CLIENT_COMMAND_LINE_H_
