// `--help` for the daemons: Abseil lists only the flags of files named after
// the program (simclr-coordinator.cc, ...), and ours live in main.cc, so a
// plain --help printed "No flags matched". This sets the usage text and
// makes --help list the flags defined in the files whose path ends with
// `flags_file` ("coordinator/main.cc"); --helpfull still lists every flag.
#ifndef SIMCLR_COMMON_FLAGS_USAGE_H_
#define SIMCLR_COMMON_FLAGS_USAGE_H_

#include <string>

#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace simclr {

// Call once, first thing in main, before absl::ParseCommandLine.
inline void SetFlagsUsage(absl::string_view usage, absl::string_view flags_file) {
  absl::SetProgramUsageMessage(usage);
  static std::string* const file = new std::string(flags_file);
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view path) {
    return absl::EndsWith(path, *file);
  };
  absl::SetFlagsUsageConfig(config);
}

}  // namespace simclr

#endif  // SIMCLR_COMMON_FLAGS_USAGE_H_
