#include "client/cli_args.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace simclr::client {
namespace {

constexpr char kUsage[] =
    R"(simclrctl: submit and follow SimCLRv2 training jobs on a coordinator.

Usage: simclrctl [--coordinator=HOST:PORT] VERB [ARGS] [FLAGS]

Verbs:
  submit -f FILE             submit the job specs in a YAML file (- for stdin)
  get jobs                   list jobs
  get job ID|NAME            show one job
  get workers                list workers
  describe job ID|NAME       a job's details and events: every attempt, its
                             workers, how it ended and why
  cancel ID|NAME             cancel a job
  watch ID|NAME              follow a job's progress until it ends
  help [VERB]                show help

Flags:
  --coordinator=HOST:PORT    coordinator address (default: $SIMCLR_COORDINATOR,
                             else the config file's context, else localhost:50051)
  --context=NAME             a context of the config file ($SIMCLR_CONFIG, else
                             ~/.config/simclr/config.yaml): a coordinator and
                             its credentials; default: its current-context
  --token-file=PATH          file holding your bearer token, for a coordinator
                             that requires one (default: $SIMCLR_TOKEN_FILE)
  --ca=PATH                  PEM CA of the coordinator's certificate: use TLS
  --cert=PATH --key=PATH     your client certificate, for mutual TLS
  -o, --output=FORMAT        get: table (default), json or yaml
  -f, --filename=FILE        submit: the job-spec file
  -h, --help                 show help

Exit codes: 0 ok; 1 job failed or not found; 2 usage error or invalid spec;
3 coordinator unreachable.
)";

struct VerbDoc {
  const char* name;
  const char* text;
};

constexpr VerbDoc kVerbDocs[] = {
    {"submit",
     R"(Usage: simclrctl submit -f FILE

Reads job specs from FILE (- reads stdin): YAML, one JobSpec per document,
documents separated by ---. Keys are JobSpec's field names
(proto/simclr/v1/job.proto); an unknown key or a value of the wrong type is
an error naming the spec, the field, its line and what was expected. All
specs go to the coordinator in one request, which stores all or none of them.
Prints the new job ids, one per line, in file order.

Example: simclrctl submit -f examples/fmnist-pipeline.yaml
)"},
    {"get",
     R"(Usage: simclrctl get jobs|job ID|NAME|workers [-o table|json|yaml]

  get jobs              every job, oldest first
  get job ID|NAME       one job (json/yaml: every field, the spec included)
  get workers           every registered worker

-o json prints one object for a job and an array for jobs and workers.
)"},
    {"describe",
     R"(Usage: simclrctl describe job ID|NAME

Shows a job as a person reads it: state and reason, attempts and restarts
spent, its gang, progress, checkpoint, artifact directory, metrics, its spec,
and its events, oldest first: the submission, each attempt's start (workers
by rank, the checkpoint it resumed from) and end (the step reached and why),
and the final state.
)"},
    {"cancel",
     R"(Usage: simclrctl cancel ID|NAME

Cancels a job that has not finished. Prints the job's state afterwards.
)"},
    {"watch",
     R"(Usage: simclrctl watch ID|NAME

Follows a job until it reaches a final state. On a terminal, one status line
is redrawn in place (state, step/total, percent, loss, images/s, ETA from the
observed step rate); otherwise one plain line per change. Prints the final
state and reason; exits 0 if the job SUCCEEDED and 1 otherwise.
)"},
    {"help", R"(Usage: simclrctl help [VERB]

Shows the usage of simclrctl or of one verb.
)"},
};

// A flag's value from "--name=value", "-xvalue" or the next argument.
absl::StatusOr<std::string> FlagValue(const std::vector<std::string>& args,
                                      size_t* i, absl::string_view flag,
                                      absl::string_view inline_value,
                                      bool has_inline,
                                      absl::string_view expected) {
  if (has_inline) {
    if (inline_value.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": empty value; expected ", expected));
    }
    return std::string(inline_value);
  }
  if (*i + 1 >= args.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": missing value; expected ", expected));
  }
  return args[++*i];
}

}  // namespace

std::string UsageText() { return kUsage; }

absl::StatusOr<std::string> VerbHelp(absl::string_view verb) {
  for (const VerbDoc& doc : kVerbDocs) {
    if (verb == doc.name) return std::string(doc.text);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("help: unknown verb \"", verb,
                   "\"; expected submit, get, cancel, watch or help"));
}

absl::StatusOr<Invocation> ParseCommandLine(const std::vector<std::string>& args) {
  Invocation inv;
  std::vector<std::string> positional;
  std::optional<std::string> output, file;
  bool help = false;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_done || arg == "-" || arg.empty() || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    // Split "--name=value" and "-xvalue".
    std::string name = arg;
    std::string value;
    bool has_inline = false;
    if (absl::StartsWith(arg, "--")) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        has_inline = true;
      }
    } else if (arg.size() > 2) {
      name = arg.substr(0, 2);
      value = arg.substr(2);
      if (absl::StartsWith(value, "=")) value = value.substr(1);
      has_inline = true;
    }
    if (name == "-h" || name == "--help") {
      help = true;
    } else if (name == "--coordinator") {
      ASSIGN_OR_RETURN(inv.connection.coordinator,
                       FlagValue(args, &i, name, value, has_inline,
                                 "HOST:PORT"));
      if (inv.connection.coordinator.find(':') == std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("--coordinator: \"", inv.connection.coordinator,
                         "\" has no port; expected HOST:PORT"));
      }
    } else if (name == "--context") {
      ASSIGN_OR_RETURN(inv.context, FlagValue(args, &i, name, value, has_inline,
                                              "a context of the config file"));
    } else if (name == "--ca") {
      ASSIGN_OR_RETURN(inv.connection.ca,
                       FlagValue(args, &i, name, value, has_inline, "a PEM file"));
    } else if (name == "--cert") {
      ASSIGN_OR_RETURN(inv.connection.cert,
                       FlagValue(args, &i, name, value, has_inline, "a PEM file"));
    } else if (name == "--key") {
      ASSIGN_OR_RETURN(inv.connection.key,
                       FlagValue(args, &i, name, value, has_inline, "a PEM file"));
    } else if (name == "--token-file") {
      ASSIGN_OR_RETURN(inv.connection.token_file,
                       FlagValue(args, &i, name, value, has_inline, "a file path"));
    } else if (name == "-o" || name == "--output") {
      ASSIGN_OR_RETURN(output, FlagValue(args, &i, name, value, has_inline,
                                         "table, json or yaml"));
    } else if (name == "-f" || name == "--filename") {
      ASSIGN_OR_RETURN(file, FlagValue(args, &i, name, value, has_inline,
                                       "a file path or - for stdin"));
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown flag ", name,
          "; expected --coordinator, --context, --token-file, --ca, --cert, --key, "
          "-o/--output, -f/--filename or --help"));
    }
  }

  if (positional.empty() || positional[0] == "help" || help) {
    inv.verb = Invocation::Verb::kHelp;
    std::string topic;
    if (!positional.empty() && positional[0] != "help") {
      topic = positional[0];
    } else if (positional.size() > 1) {
      topic = positional[1];
    }
    if (topic.empty()) {
      inv.help_text = UsageText();
    } else {
      ASSIGN_OR_RETURN(inv.help_text, VerbHelp(topic));
    }
    if (positional.empty() && !help) {
      return absl::InvalidArgumentError(
          "missing verb; expected submit, get, cancel, watch or help");
    }
    return inv;
  }

  const std::string& verb = positional[0];
  auto expect_args = [&](size_t n, absl::string_view what) -> absl::Status {
    if (positional.size() < n + 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(verb, ": missing ", what));
    }
    if (positional.size() > n + 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          verb, ": unexpected argument \"", positional[n + 1], "\"; expected ",
          what.empty() ? "none" : what));
    }
    return absl::OkStatus();
  };
  if (output && verb != "get") {
    return absl::InvalidArgumentError(
        absl::StrCat("-o: only `get` takes an output format, not ", verb));
  }
  if (file && verb != "submit") {
    return absl::InvalidArgumentError(
        absl::StrCat("-f: only `submit` reads a file, not ", verb));
  }

  if (verb == "submit") {
    RETURN_IF_ERROR(expect_args(0, ""));
    if (!file) {
      return absl::InvalidArgumentError(
          "submit: missing -f FILE; expected a job-spec YAML file or - for "
          "stdin");
    }
    inv.verb = Invocation::Verb::kSubmit;
    inv.file = *file;
  } else if (verb == "get") {
    if (output) {
      ASSIGN_OR_RETURN(inv.format, ParseOutputFormat(*output));
    }
    const std::string noun = positional.size() > 1 ? positional[1] : "";
    if (noun == "jobs" && positional.size() == 2) {
      inv.verb = Invocation::Verb::kGetJobs;
    } else if (noun == "job" || noun == "jobs") {
      RETURN_IF_ERROR(expect_args(2, "a job ID or NAME"));
      inv.verb = Invocation::Verb::kGetJob;
      inv.job = positional[2];
    } else if (noun == "workers" || noun == "worker") {
      RETURN_IF_ERROR(expect_args(1, ""));
      inv.verb = Invocation::Verb::kGetWorkers;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "get: ", noun.empty() ? "missing what to get" :
                                  absl::StrCat("unknown resource \"", noun, "\""),
          "; expected jobs, job ID|NAME or workers"));
    }
  } else if (verb == "describe") {
    const std::string noun = positional.size() > 1 ? positional[1] : "";
    if (noun != "job") {
      return absl::InvalidArgumentError(absl::StrCat(
          "describe: ", noun.empty() ? "missing what to describe"
                                     : absl::StrCat("unknown resource \"", noun, "\""),
          "; expected job ID|NAME"));
    }
    RETURN_IF_ERROR(expect_args(2, "a job ID or NAME"));
    inv.verb = Invocation::Verb::kDescribe;
    inv.job = positional[2];
  } else if (verb == "cancel" || verb == "watch") {
    RETURN_IF_ERROR(expect_args(1, "a job ID or NAME"));
    inv.verb = verb == "cancel" ? Invocation::Verb::kCancel
                                : Invocation::Verb::kWatch;
    inv.job = positional[1];
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown verb \"", verb,
                     "\"; expected submit, get, describe, cancel, watch or help"));
  }
  return inv;
}

}  // namespace simclr::client
