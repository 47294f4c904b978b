#include "client/yaml_scalar.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace simclr::client {
namespace {

constexpr absl::string_view kTagPrefix = "tag:yaml.org,2002:";

bool AllOf(absl::string_view s, bool (*pred)(unsigned char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!pred(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsOctal(unsigned char c) { return c >= '0' && c <= '7'; }
bool IsHex(unsigned char c) { return absl::ascii_isxdigit(c); }

absl::string_view StripSign(absl::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  return s;
}

bool IsInfinity(absl::string_view s) {
  s = StripSign(s);
  return s == ".inf" || s == ".Inf" || s == ".INF";
}

bool IsNan(absl::string_view s) {
  return s == ".nan" || s == ".NaN" || s == ".NAN";
}

// [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool IsDecimalFloat(absl::string_view s) {
  s = StripSign(s);
  size_t i = 0;
  size_t int_digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++int_digits;
  size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

}  // namespace

ScalarKind ResolvePlainScalar(absl::string_view s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return ScalarKind::kNull;
  }
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" ||
      s == "False" || s == "FALSE") {
    return ScalarKind::kBool;
  }
  absl::string_view unsigned_part = StripSign(s);
  if (AllOf(unsigned_part, IsDigit)) return ScalarKind::kInt;
  if (absl::StartsWith(s, "0o") && AllOf(s.substr(2), IsOctal)) {
    return ScalarKind::kInt;
  }
  if (absl::StartsWith(s, "0x") && AllOf(s.substr(2), IsHex)) {
    return ScalarKind::kInt;
  }
  if (IsDecimalFloat(s) || IsInfinity(s) || IsNan(s)) return ScalarKind::kFloat;
  return ScalarKind::kString;
}

absl::StatusOr<ScalarKind> KindOfScalar(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  const std::string& text = node.Scalar();
  // yaml-cpp tags plain scalars "?" and quoted ones "!" (non-specific).
  if (tag == "?" || tag.empty()) return ResolvePlainScalar(text);
  if (tag == "!") return ScalarKind::kString;
  if (absl::StartsWith(tag, kTagPrefix)) {
    absl::string_view name = absl::string_view(tag).substr(kTagPrefix.size());
    ScalarKind resolved = ResolvePlainScalar(text);
    if (name == "str") return ScalarKind::kString;
    if (name == "null" && resolved == ScalarKind::kNull) return resolved;
    if (name == "bool" && resolved == ScalarKind::kBool) return resolved;
    if (name == "int" && resolved == ScalarKind::kInt) return resolved;
    if (name == "float" &&
        (resolved == ScalarKind::kFloat || resolved == ScalarKind::kInt)) {
      return ScalarKind::kFloat;
    }
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "unsupported tag %s on value \"%s\" at line %d, column %d", tag, text,
      node.Mark().line + 1, node.Mark().column + 1));
}

absl::StatusOr<int64_t> IntValue(absl::string_view text) {
  const bool negative = !text.empty() && text[0] == '-';
  absl::string_view digits = StripSign(text);
  int base = 10;
  if (absl::StartsWith(digits, "0o")) {
    base = 8;
    digits.remove_prefix(2);
  } else if (absl::StartsWith(digits, "0x")) {
    base = 16;
    digits.remove_prefix(2);
  }
  errno = 0;
  const std::string owned(digits);
  const unsigned long long magnitude = std::strtoull(owned.c_str(), nullptr, base);
  const unsigned long long limit =
      static_cast<unsigned long long>(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
  if (errno == ERANGE || magnitude > limit) {
    return absl::InvalidArgumentError(absl::StrCat("integer ", text, " does not fit in 64 bits"));
  }
  return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
}

double FloatValue(absl::string_view text) {
  if (IsNan(text)) return std::numeric_limits<double>::quiet_NaN();
  if (IsInfinity(text)) {
    return text[0] == '-' ? -std::numeric_limits<double>::infinity()
                          : std::numeric_limits<double>::infinity();
  }
  if (ResolvePlainScalar(text) == ScalarKind::kInt) {
    absl::StatusOr<int64_t> value = IntValue(text);
    if (value.ok()) return static_cast<double>(*value);
  }
  return std::strtod(std::string(text).c_str(), nullptr);
}

}  // namespace simclr::client
