#include "model/checkpoint/import_command.h"

#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "model/checkpoint/simclrv2_import.h"

namespace simclr::model {
namespace {

constexpr int kOk = 0;
constexpr int kFailure = 1;
constexpr int kUsage = 2;

constexpr char kUsageText[] =
    "usage: simclr-model import --from FILE.pth --to DIR "
    "[--depth N] [--width_multiplier W] [--sk_ratio R]\n";

// "--name value" / "--name=value" into `values`; false (with a message in
// `error`) for unknown, repeated or valueless flags and positional arguments.
bool ParseFlags(const std::vector<std::string>& args, std::map<std::string, std::string>* values,
                std::string* error) {
  static const std::set<std::string> kKnown = {"from", "to", "depth", "width_multiplier",
                                               "sk_ratio"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      *error = absl::StrCat("unexpected argument '", arg, "'");
      return false;
    }
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      *error = absl::StrCat("flag --", name, " needs a value");
      return false;
    }
    if (kKnown.count(name) == 0) {
      *error = absl::StrCat("unknown flag --", name);
      return false;
    }
    if (!values->emplace(name, value).second) {
      *error = absl::StrCat("flag --", name, " given twice");
      return false;
    }
  }
  return true;
}

}  // namespace

int RunImport(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::map<std::string, std::string> values;
  std::string error;
  if (!ParseFlags(args, &values, &error)) {
    err << "simclr-model import: " << error << "\n" << kUsageText;
    return kUsage;
  }
  for (const char* required : {"from", "to"}) {
    if (values.count(required) == 0 || values[required].empty()) {
      err << "simclr-model import: --" << required << " is required\n" << kUsageText;
      return kUsage;
    }
  }
  SimclrV2ImportFlags flags;
  if (values.count("depth")) {
    int depth = 0;
    if (!absl::SimpleAtoi(values["depth"], &depth)) {
      err << "simclr-model import: --depth '" << values["depth"] << "' is not an integer\n";
      return kUsage;
    }
    flags.depth = depth;
  }
  for (const char* name : {"width_multiplier", "sk_ratio"}) {
    if (values.count(name) == 0) continue;
    double v = 0.0;
    if (!absl::SimpleAtod(values[name], &v)) {
      err << "simclr-model import: --" << name << " '" << values[name]
          << "' is not a number\n";
      return kUsage;
    }
    (std::string(name) == "sk_ratio" ? flags.sk_ratio : flags.width_multiplier) = v;
  }
  ModelOptions options;
  absl::StatusOr<std::string> written =
      ImportSimclrV2File(values["from"], values["to"], flags, &options);
  if (!written.ok()) {
    err << "simclr-model import: " << written.status().message() << "\n";
    return kFailure;
  }
  out << "wrote " << *written << "\n"
      << "architecture " << ModelOptionsJson(options, values["from"]) << "\n";
  return kOk;
}

}  // namespace simclr::model
