// The YAML 1.2 core schema's typing of scalars, as simclrctl reads job specs
// and writes YAML.
//
// A plain `8` is an integer, `1.0e-6` and `.5` are floats, `true`/`false`
// booleans, `~`/`null`/empty a null, and anything quoted stays a string. The
// same rules decide, on the way out, which strings must be quoted so that a
// YAML document reads back as what it printed.
#ifndef SIMCLR_CLIENT_YAML_SCALAR_H_
#define SIMCLR_CLIENT_YAML_SCALAR_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "yaml-cpp/yaml.h"

namespace simclr::client {

// What a YAML scalar denotes.
enum class ScalarKind { kNull, kBool, kInt, kFloat, kString };

// Types a plain (unquoted, untagged) scalar by the YAML 1.2 core schema.
ScalarKind ResolvePlainScalar(absl::string_view text);

// What a scalar node denotes: by its tag (!!str, !!int, ...) if it has one,
// a string if quoted, else ResolvePlainScalar. InvalidArgument names the tag,
// the value and its line for an unsupported tag or a value its tag denies.
absl::StatusOr<ScalarKind> KindOfScalar(const YAML::Node& node);

// The value of a kInt scalar: decimal with an optional sign, 0o octal or 0x
// hexadecimal. InvalidArgument when it does not fit in 64 bits.
absl::StatusOr<int64_t> IntValue(absl::string_view text);

// The value of a kFloat or kInt scalar, .inf and .nan included.
double FloatValue(absl::string_view text);

}  // namespace simclr::client

#endif  // SIMCLR_CLIENT_YAML_SCALAR_H_
