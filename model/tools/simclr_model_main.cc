// simclr-model: offline tools for SimCLRv2 models.
//
//   simclr-model <subcommand> [flags]
//   simclr-model describe --depth 152 --width_multiplier 3 --sk_ratio 0.0625 -o json
//
// Subcommands are rows of kSubcommands; each parses its own flags and returns
// an exit status (0 ok, 1 failure, 2 usage).
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "model/checkpoint/import_command.h"
#include "model/tools/describe_command.h"

namespace {

using RunFn = int (*)(const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err);

struct Subcommand {
  const char* name;
  const char* summary;
  RunFn run;
};

constexpr Subcommand kSubcommands[] = {
    {"describe", "parameter counts and FLOPs of a model configuration",
     simclr::model::RunDescribe},
    {"import", "convert a public SimCLRv2 PyTorch checkpoint (.pth) to ours",
     simclr::model::RunImport},
};

void PrintUsage(std::ostream& os) {
  os << "usage: simclr-model <subcommand> [flags]\n\nsubcommands:\n";
  for (const Subcommand& c : kSubcommands) {
    os << "  " << c.name << "\t" << c.summary << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(std::cerr);
    return simclr::model::kExitUsage;
  }
  const std::string name = argv[1];
  if (name == "help" || name == "--help" || name == "-h") {
    PrintUsage(std::cout);
    return simclr::model::kExitOk;
  }
  for (const Subcommand& c : kSubcommands) {
    if (name == c.name) {
      return c.run(std::vector<std::string>(argv + 2, argv + argc), std::cout,
                   std::cerr);
    }
  }
  std::cerr << "simclr-model: unknown subcommand '" << name << "'\n";
  PrintUsage(std::cerr);
  return simclr::model::kExitUsage;
}
