#include "client/command_line.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/version.h"

namespace simclr::client {
namespace {

constexpr char kDescription[] =
    "simclrctl: submit and follow SimCLRv2 training jobs on a coordinator.";

constexpr char kFooter[] = R"(
Run 'simclrctl VERB --help' for a verb's flags, e.g. 'simclrctl get jobs --help'.

Exit codes: 0 ok; 1 job failed or not found; 2 usage error or invalid spec;
3 coordinator unreachable.)";

// Values that need checking after CLI11 has read them.
struct Raw {
  std::string output = "table";
  std::vector<std::string> states;
  std::vector<std::string> labels;
  std::string shell;
};

// Verbs that name one job, for their help texts and completion.
constexpr char kJobArgument[] = "ID|NAME";

void AddOutput(CLI::App& verb, Raw& raw) {
  verb.add_option("-o,--output", raw.output,
                  absl::StrCat("output format: ", absl::StrJoin(kOutputFormatNames, ", ")));
}

CLI::App* AddVerb(CLI::App& parent, const std::string& name, const std::string& description,
                  Invocation& inv, Invocation::Verb verb) {
  CLI::App* app = parent.add_subcommand(name, description);
  app->callback([&inv, verb] { inv.verb = verb; });
  return app;
}

// A verb of one job, named by its ID|NAME argument.
CLI::App* AddJobVerb(CLI::App& parent, const std::string& name, const std::string& description,
                     Invocation& inv, Invocation::Verb verb, const std::string& footer = "") {
  CLI::App* app = AddVerb(parent, name, description, inv, verb);
  app->add_option("job", inv.job, "the job's id or name")->required()->type_name(kJobArgument);
  if (!footer.empty()) app->footer(footer);
  return app;
}

// Every verb and flag; CLI11 keeps pointers into `inv` and `raw`.
std::unique_ptr<CLI::App> MakeApp(Invocation& inv, Raw& raw) {
  auto app = std::make_unique<CLI::App>(kDescription, "simclrctl");
  app->footer(kFooter);
  // Global flags may follow the verb: subcommands pass what they do not
  // know up to here (subcommands inherit this setting).
  app->fallthrough();
  app->set_help_flag("-h,--help", "show help");
  app->add_option("--coordinator", inv.connection.coordinator,
                  "coordinator address (else the config file's context, else localhost:50051)")
      ->envname("SIMCLR_COORDINATOR")
      ->type_name("HOST:PORT")
      ->check([](const std::string& value) -> std::string {
        if (value.find(':') != std::string::npos) return "";
        return absl::StrCat("\"", value, "\" has no port; expected HOST:PORT");
      });
  app->add_option("--context", inv.context,
                  "a context of the config file ($SIMCLR_CONFIG, else "
                  "~/.config/simclr/config.yaml); default: its current-context");
  app->add_option("--token-file", inv.connection.token_file,
                  "file holding your bearer token, for a coordinator that requires one")
      ->envname("SIMCLR_TOKEN_FILE");
  app->add_option("--ca", inv.connection.ca, "PEM CA of the coordinator's certificate: use TLS");
  app->add_option("--cert", inv.connection.cert, "your client certificate (PEM), for mutual TLS");
  app->add_option("--key", inv.connection.key, "the private key of --cert (PEM)");

  CLI::App* submit = AddVerb(*app, "submit", "submit the job specs of a YAML file",
                             inv, Invocation::Verb::kSubmit);
  submit->add_option("-f,--filename", inv.file, "the job-spec file, - for stdin")->required();
  submit->footer(
      "One JobSpec per YAML document, documents separated by ---; keys are JobSpec's field\n"
      "names (proto/simclr/v1/job.proto). An unknown key or a value of the wrong type is an\n"
      "error naming the spec, the field, its line and what was expected. All specs go to the\n"
      "coordinator in one request, which stores all or none. Prints the new job ids.");

  CLI::App* get = app->add_subcommand("get", "list jobs or workers, or show one job");
  get->require_subcommand(1);
  CLI::App* jobs = AddVerb(*get, "jobs", "list jobs, oldest first", inv,
                           Invocation::Verb::kGetJobs);
  AddOutput(*jobs, raw);
  jobs->add_option("--state", raw.states, "only jobs in these states, e.g. running,queued")
      ->delimiter(',');
  jobs->add_option("-l,--selector", raw.labels, "only jobs with these labels: key=value[,...]")
      ->delimiter(',');
  jobs->add_option("--limit", inv.limit, "at most this many jobs (default: all, page by page)")
      ->check(CLI::NonNegativeNumber);
  jobs->add_option("--chunk-size", inv.chunk_size,
                   "jobs per request to the coordinator (default: its page size, 500)")
      ->check(CLI::Range(0, 1000));
  jobs->add_flag("-w,--watch", inv.watch, "after the list, print jobs again as they change");
  CLI::App* job = AddJobVerb(*get, "job", "show one job", inv, Invocation::Verb::kGetJob);
  AddOutput(*job, raw);
  job->add_flag("--metrics", inv.metrics,
                "the training curve (rank 0's step log, every attempt) instead of the job");
  CLI::App* workers = AddVerb(*get, "workers", "list workers", inv,
                              Invocation::Verb::kGetWorkers);
  AddOutput(*workers, raw);

  CLI::App* describe = app->add_subcommand("describe", "a job's details and events");
  describe->require_subcommand(1);
  AddJobVerb(*describe, "job", "a job's details and events", inv, Invocation::Verb::kDescribe,
             "State and reason, attempts and restarts, gang, progress, checkpoint, artifact\n"
             "directory, exported model, metrics, the spec as submitted, and the events:\n"
             "submission, each attempt's start (workers by rank, the checkpoint it resumed\n"
             "from, the steps it trains again) and end (step reached, why).");
  AddJobVerb(*app, "cancel", "cancel a job that has not finished", inv,
             Invocation::Verb::kCancel);
  AddJobVerb(*app, "watch", "follow a job's progress until it ends", inv,
             Invocation::Verb::kWatch,
             "On a terminal one status line is redrawn in place (state, step/total, loss,\n"
             "images/s, ETA); otherwise one plain line per change. A job that waits says why.\n"
             "Exits 0 if the job SUCCEEDED and 1 otherwise.");

  CLI::App* logs = AddJobVerb(*app, "logs", "print a trainer's log", inv, Invocation::Verb::kLogs);
  logs->add_option("--rank", inv.rank, "the trainer's rank (default 0)")
      ->check(CLI::NonNegativeNumber);
  logs->add_option("--attempt", inv.attempt, "which attempt (default: the latest)")
      ->check(CLI::NonNegativeNumber);
  logs->add_flag("-f,--follow", inv.follow,
                 "keep printing while the job runs, into later attempts, until it ends");

  AddJobVerb(*app, "delete", "delete a finished job and its artifacts", inv,
             Invocation::Verb::kDelete,
             "Refused while the job has not finished (unless --cancel) and while a job that\n"
             "has not finished names it as parent or teacher.")
      ->add_flag("--cancel", inv.cancel, "cancel the job first if it has not finished");
  AddJobVerb(*app, "retry", "submit a job's spec again, as a new job", inv,
             Invocation::Verb::kRetry,
             "The new job is named NAME-retry-N and starts from the spec as submitted.");

  AddVerb(*app, "version", "print the version of simclrctl", inv, Invocation::Verb::kPrint);
  CLI::App* completion = AddVerb(*app, "completion", "print a shell completion script", inv,
                                 Invocation::Verb::kPrint);
  completion->add_option("shell", raw.shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  completion->footer(
      "bash: source <(simclrctl completion bash)\n"
      "zsh:  source <(simclrctl completion zsh)");
  // Listed for help and completion; ParseCommandLine reads `help VERB`
  // itself (CLI11 would take VERB for a verb to run).
  AddVerb(*app, "help", "show help, or a verb's: help [VERB]", inv, Invocation::Verb::kPrint);
  return app;
}

// The words that complete after `app`'s own path: its subcommands and flags.
std::string CompletionWords(const CLI::App& app) {
  std::vector<std::string> words;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    words.push_back(sub->get_name());
  }
  for (const CLI::Option* option : app.get_options()) {
    for (const std::string& name : option->get_lnames()) words.push_back("--" + name);
    for (const std::string& name : option->get_snames()) words.push_back("-" + name);
  }
  return absl::StrJoin(words, " ");
}

void CollectCompletions(const CLI::App& app, const std::string& path,
                        std::vector<std::pair<std::string, const CLI::App*>>* out) {
  out->push_back({path, &app});
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    CollectCompletions(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
  }
}

// A bash completion function generated from the verbs and flags above;
// job arguments complete with the names `get jobs -o name` prints.
std::string CompletionScript(const CLI::App& app, const std::string& shell) {
  std::vector<std::pair<std::string, const CLI::App*>> paths;
  CollectCompletions(app, "", &paths);
  std::vector<std::string> nested, cases, job_paths;
  for (const auto& [path, sub] : paths) {
    if (!path.empty()) nested.push_back(absl::StrCat("\"", path, "\""));
    cases.push_back(absl::StrCat("    \"", path, "\") words=\"", CompletionWords(*sub), "\" ;;"));
    for (const CLI::Option* option : sub->get_options()) {
      if (option->get_type_name() == kJobArgument) job_paths.push_back(absl::StrCat("\"", path, "\""));
    }
  }
  std::string script;
  if (shell == "zsh") script = "autoload -U +X bashcompinit && bashcompinit\n";
  absl::StrAppend(
      &script, "# simclrctl ", kVersion, " completion for ", shell, "\n",
      "_simclrctl() {\n"
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" path=\"\" word words\n"
      "  for word in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do\n"
      "    case \"${path:+$path }$word\" in\n"
      "      ", absl::StrJoin(nested, "|"), ") path=\"${path:+$path }$word\" ;;\n"
      "    esac\n"
      "  done\n"
      "  case \"$path\" in\n",
      absl::StrJoin(cases, "\n"), "\n",
      "  esac\n"
      "  case \"$path\" in\n"
      "    ", absl::StrJoin(job_paths, "|"),
      ") words=\"$words $(simclrctl get jobs -o name 2>/dev/null)\" ;;\n"
      "  esac\n"
      "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      "}\n"
      "complete -F _simclrctl simclrctl\n");
  return script;
}

// The names of the top-level verbs, for errors.
std::string VerbNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  return absl::StrJoin(names, ", ");
}

}  // namespace

absl::StatusOr<Invocation> ParseCommandLine(const std::vector<std::string>& args) {
  Invocation inv;
  Raw raw;
  std::unique_ptr<CLI::App> app = MakeApp(inv, raw);
  if (!args.empty() && args[0] == "help") {
    if (args.size() > 2) return absl::InvalidArgumentError("help: expected at most one verb");
    inv.text = app->help();
    if (args.size() == 2) {
      try {
        inv.text = app->get_subcommand(args[1])->help();
      } catch (const CLI::OptionNotFound&) {
        return absl::InvalidArgumentError(absl::StrCat(
            "help: unknown verb \"", args[1], "\"; expected one of ", VerbNames(*app)));
      }
    }
    return inv;
  }
  try {
    // CLI11 consumes the arguments from the back.
    app->parse(std::vector<std::string>(args.rbegin(), args.rend()));
  } catch (const CLI::CallForHelp&) {
    inv.verb = Invocation::Verb::kPrint;
    inv.text = app->help();  // the help of the verb given, if any
    return inv;
  } catch (const CLI::ExtrasError& e) {
    if (app->get_subcommands().empty() && !args.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown verb \"", args[0], "\"; expected one of ", VerbNames(*app)));
    }
    return absl::InvalidArgumentError(e.what());
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(e.what());
  }
  const std::vector<CLI::App*> verbs = app->get_subcommands();
  if (verbs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing verb; expected one of ", VerbNames(*app)));
  }
  const std::string verb = verbs.front()->get_name();
  if (verb == "version") {
    inv.text = absl::StrCat("simclrctl ", kVersion, "\n");
    return inv;
  }
  if (verb == "completion") {
    inv.text = CompletionScript(*app, raw.shell);
    return inv;
  }
  ASSIGN_OR_RETURN(inv.format, ParseOutputFormat(raw.output));
  for (const std::string& state : raw.states) {
    ASSIGN_OR_RETURN(v1::JobState parsed, ParseJobState(state));
    inv.states.push_back(parsed);
  }
  for (const std::string& label : raw.labels) {
    const size_t eq = label.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("-l: \"", label, "\" is not a label; expected key=value"));
    }
  }
  inv.label_selector = absl::StrJoin(raw.labels, ",");
  if (inv.watch && inv.format != OutputFormat::kTable && inv.format != OutputFormat::kWide) {
    return absl::InvalidArgumentError("--watch: prints tables; expected -o table or -o wide");
  }
  return inv;
}

}  // namespace simclr::client
