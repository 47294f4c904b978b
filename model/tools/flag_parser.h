// Minimal per-subcommand flag parsing for the `simclr-model` tool. Each
// subcommand parses its own arguments (no global flag registry), so adding a
// subcommand never collides with another's flags.
#ifndef SIMCLR_MODEL_TOOLS_FLAG_PARSER_H_
#define SIMCLR_MODEL_TOOLS_FLAG_PARSER_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace simclr::model {

// Parses "--name value", "--name=value" and "-o value" forms. Every flag
// takes a value. Not thread-safe; cheap to construct per call.
//
//   FlagParser flags({"depth", "o"});
//   RETURN_IF_ERROR(flags.Parse(args));
//   ASSIGN_OR_RETURN(int64_t depth, flags.GetInt("depth", 50));
class FlagParser {
 public:
  explicit FlagParser(std::set<std::string> known_flags)
      : known_(std::move(known_flags)) {}

  // InvalidArgument for an unknown flag, a missing value, a repeated flag or
  // a positional argument.
  absl::Status Parse(const std::vector<std::string>& args);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The value of `name`, or `fallback` when absent. InvalidArgument naming
  // the flag when the value does not parse.
  std::string GetString(const std::string& name, const std::string& fallback) const;
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback) const;
  absl::StatusOr<double> GetDouble(const std::string& name, double fallback) const;

 private:
  std::set<std::string> known_;
  std::map<std::string, std::string> values_;
};

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_TOOLS_FLAG_PARSER_H_
