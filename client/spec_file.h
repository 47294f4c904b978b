// Job-spec files: YAML with one JobSpec per document, as `simclrctl submit -f`
// reads them.
//
// Each document goes YAML -> JSON -> proto through protobuf's JSON mapping
// (unknown fields rejected), so the file's keys are exactly JobSpec's field
// names (proto/simclr/v1/job.proto). Before that, each document is checked
// against JobSpec's descriptor so that an error can name the field path, the
// line and column, and what was expected, which protobuf's own messages do
// not. Pure: no I/O, no RPC.
#ifndef SIMCLR_CLIENT_SPEC_FILE_H_
#define SIMCLR_CLIENT_SPEC_FILE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/simclr/v1/job.pb.h"

namespace simclr::client {

// Parses every document of `yaml_text` into a JobSpec, in file order. Empty
// documents are skipped. Returns InvalidArgument when
//   - the text is not YAML ("YAML syntax error at line L, column C: ..."),
//   - there is no document at all,
//   - a document has an unknown field or a value of the wrong type; the
//     message starts with the document's number and name, e.g.
//     `spec 2 (fmnist-finetune-1pct): unknown field "modle" at line 9,
//     column 1; expected one of: name, kind, ...`.
//   - the file is larger than kMaxSpecFileBytes, holds more than
//     kMaxSpecDocuments documents, or nests [ ] / { } deeper than
//     kMaxSpecNesting (checked before parsing, so no input exhausts memory
//     or the stack).
// Values are not validated beyond their types: that is the coordinator's.
inline constexpr size_t kMaxSpecFileBytes = 1 << 20;
inline constexpr size_t kMaxSpecDocuments = 1000;
inline constexpr int kMaxSpecNesting = 32;
absl::StatusOr<std::vector<v1::JobSpec>> ParseJobSpecs(
    absl::string_view yaml_text);

}  // namespace simclr::client

#endif  // SIMCLR_CLIENT_SPEC_FILE_H_
