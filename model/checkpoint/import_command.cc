#include "model/checkpoint/import_command.h"

#include "CLI/CLI.hpp"
#include "model/checkpoint/simclrv2_import.h"

namespace simclr::model {
namespace {

constexpr int kOk = 0;
constexpr int kFailure = 1;
constexpr int kUsage = 2;

}  // namespace

int RunImport(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string from, to;
  SimclrV2ImportFlags flags;
  CLI::App app("convert a public SimCLRv2 PyTorch checkpoint (.pth) to ours",
               "simclr-model import");
  app.add_option("--from", from, "the .pth file")->required();
  app.add_option("--to", to, "the directory of the checkpoint to write")->required();
  app.add_option("--depth", flags.depth, "override the inferred depth");
  app.add_option("--width_multiplier", flags.width_multiplier, "override the inferred width");
  app.add_option("--sk_ratio", flags.sk_ratio, "override the inferred selective-kernel ratio");
  try {
    app.parse(std::vector<std::string>(args.rbegin(), args.rend()));
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return kOk;
  } catch (const CLI::ParseError& e) {
    err << "simclr-model import: " << e.what() << "\n" << app.help();
    return kUsage;
  }
  ModelOptions options;
  absl::StatusOr<std::string> written = ImportSimclrV2File(from, to, flags, &options);
  if (!written.ok()) {
    err << "simclr-model import: " << written.status().message() << "\n";
    return kFailure;
  }
  out << "wrote " << *written << "\n"
      << "architecture " << ModelOptionsJson(options, from) << "\n";
  return kOk;
}

}  // namespace simclr::model
