#include "model/tools/flag_parser.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace simclr::model {

absl::Status FlagParser::Parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string name;
    if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      name = arg.substr(2);
    } else if (arg.size() == 2 && arg[0] == '-' && arg[1] != '-') {
      name = arg.substr(1);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "': expected --flag value"));
    }
    std::string value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " expects a value"));
      }
      value = args[++i];
    }
    if (known_.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (!values_.emplace(name, value).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " given more than once"));
    }
  }
  return absl::OkStatus();
}

std::string FlagParser::GetString(const std::string& name,
                                  const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

absl::StatusOr<int64_t> FlagParser::GetInt(const std::string& name,
                                           int64_t fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, ": got '", it->second, "', expected an integer"));
  }
  return value;
}

absl::StatusOr<double> FlagParser::GetDouble(const std::string& name,
                                             double fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  double value = 0;
  if (!absl::SimpleAtod(it->second, &value) || !std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, ": got '", it->second, "', expected a number"));
  }
  return value;
}

}  // namespace simclr::model
