// The bridge between YAML and JSON text that simclrctl reads and writes.
//
// Job specs are YAML for people and JSON for protobuf's JSON mapping, so a
// YAML scalar must become the JSON value its author meant. Scalars are typed
// by the YAML 1.2 core schema: a plain `8` is an integer, `1.0e-6` and `.5`
// are floats, `true`/`false` booleans, `~`/`null`/empty a null, and anything
// quoted stays a string. The same rules decide, on the way out, which strings
// must be quoted so that a YAML view reads back as what it printed.
#ifndef SIMCLR_CLIENT_YAML_JSON_H_
#define SIMCLR_CLIENT_YAML_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "yaml-cpp/yaml.h"

namespace simclr::client {

// What a plain (unquoted, untagged) YAML scalar denotes.
enum class ScalarKind { kNull, kBool, kInt, kFloat, kString };

// Types a plain scalar by the YAML 1.2 core schema.
ScalarKind ResolvePlainScalar(absl::string_view text);

// `text` as a JSON string literal, quotes included, escaped per RFC 8259.
std::string JsonQuote(absl::string_view text);

// Shortest decimal text that reads back as exactly `value` ("0.3", "1e-06").
// Infinities and NaN are spelled as protobuf's JSON mapping expects them
// ("Infinity", "-Infinity", "NaN") and are not valid bare JSON numbers.
std::string FormatDouble(double value);

// Converts a YAML node (mapping, sequence or scalar) into JSON text.
// Errors (InvalidArgument) name the offending line and column: a mapping key
// that is not a scalar, a duplicate key, an unsupported tag.
absl::StatusOr<std::string> YamlToJson(const YAML::Node& node);

}  // namespace simclr::client

#endif  // SIMCLR_CLIENT_YAML_JSON_H_
