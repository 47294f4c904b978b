// The command line of simclrctl: verbs, flags and help texts. Pure: the
// environment is passed in, nothing is printed.
//
//   simclrctl [--coordinator=HOST:PORT] VERB [ARGS] [FLAGS]
#ifndef SIMCLR_CLIENT_CLI_ARGS_H_
#define SIMCLR_CLIENT_CLI_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/client_config.h"
#include "client/job_view.h"

namespace simclr::client {

inline constexpr char kDefaultCoordinator[] = "localhost:50051";

// What the command line asks for.
struct Invocation {
  enum class Verb {
    kHelp,  // print help_text and exit 0
    kSubmit,
    kGetJobs,
    kGetJob,
    kGetWorkers,
    kCancel,
    kWatch,
    kDescribe,
  };
  Verb verb = Verb::kHelp;
  // From --coordinator, --token-file, --ca, --cert, --key ("" = not given);
  // main layers them over the environment and the config file's context.
  Connection connection;
  std::string context;      // --context: a context of the config file
  std::string job;          // get job, describe, cancel, watch: id or name
  std::string file;         // submit -f: path or "-"
  OutputFormat format = OutputFormat::kTable;  // get -o
  std::string help_text;    // kHelp
};

// Parses `args` (argv without the program name). Flags may come before or after
// the verb; `--` ends the flags. Returns InvalidArgument naming the argument
// and what was expected: an unknown verb or flag, a missing value, a flag the
// verb does not take, a missing or extra argument.
absl::StatusOr<Invocation> ParseCommandLine(const std::vector<std::string>& args);

// `simclrctl --help`.
std::string UsageText();
// `simclrctl help VERB`; InvalidArgument for an unknown verb.
absl::StatusOr<std::string> VerbHelp(absl::string_view verb);

}  // namespace simclr::client

#endif  // SIMCLR_CLIENT_CLI_ARGS_H_
