// libFuzzer target: a job file as simclrctl reads it (YAML -> JobSpec), then
// the coordinator's validation and defaults, as a submit would run them.
// Bar: no crash, no sanitizer report, and every refusal names a field.
#include <cstddef>
#include <cstdint>
#include <string>

#include "client/spec_file.h"
#include "coordinator/job_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto specs = simclr::client::ParseJobSpecs(text);
  if (!specs.ok()) return 0;
  simclr::coordinator::SpecLimits limits;
  limits.data_roots = {"/usr/share/datasets"};
  for (simclr::v1::JobSpec& spec : *specs) {
    const absl::Status valid = simclr::coordinator::CheckJobSpec(spec, limits);
    if (!valid.ok()) {
      // A refusal names a field: "<field>: got ..., expected ...".
      if (valid.message().find(": ") == absl::string_view::npos) __builtin_trap();
      continue;
    }
    simclr::coordinator::ApplyDefaults(nullptr, spec);
  }
  return 0;
}
