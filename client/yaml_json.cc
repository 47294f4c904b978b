#include "client/yaml_json.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

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

absl::StatusOr<std::string> IntToJson(absl::string_view text,
                                      const YAML::Mark& mark) {
  bool negative = !text.empty() && text[0] == '-';
  absl::string_view digits = StripSign(text);
  int base = 10;
  if (absl::StartsWith(digits, "0o")) {
    base = 8;
    digits.remove_prefix(2);
  } else if (absl::StartsWith(digits, "0x")) {
    base = 16;
    digits.remove_prefix(2);
  }
  if (base == 10) {
    // JSON numbers have no '+' and no leading zeros; the digits themselves
    // pass through untouched so protobuf can report a value out of range.
    while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
    return absl::StrCat(negative ? "-" : "", digits);
  }
  errno = 0;
  std::string owned(digits);
  unsigned long long value = std::strtoull(owned.c_str(), nullptr, base);
  if (errno == ERANGE) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "integer %s at line %d, column %d does not fit in 64 bits", text,
        mark.line + 1, mark.column + 1));
  }
  return absl::StrCat(negative ? "-" : "", value);
}

absl::StatusOr<std::string> ScalarToJson(const YAML::Node& node,
                                         ScalarKind kind) {
  const std::string& text = node.Scalar();
  switch (kind) {
    case ScalarKind::kNull:
      return std::string("null");
    case ScalarKind::kBool:
      return std::string(absl::AsciiStrToLower(text) == "true" ? "true"
                                                               : "false");
    case ScalarKind::kInt:
      return IntToJson(text, node.Mark());
    case ScalarKind::kFloat:
      if (IsNan(text)) return JsonQuote("NaN");
      if (IsInfinity(text)) {
        return JsonQuote(text[0] == '-' ? "-Infinity" : "Infinity");
      }
      return FormatDouble(std::strtod(text.c_str(), nullptr));
    case ScalarKind::kString:
      return JsonQuote(text);
  }
  return JsonQuote(text);
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

absl::Status AppendJson(const YAML::Node& node, std::string* out) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      absl::StrAppend(out, "null");
      return absl::OkStatus();
    case YAML::NodeType::Scalar: {
      ASSIGN_OR_RETURN(ScalarKind kind, KindOfScalar(node));
      ASSIGN_OR_RETURN(std::string json, ScalarToJson(node, kind));
      absl::StrAppend(out, json);
      return absl::OkStatus();
    }
    case YAML::NodeType::Sequence: {
      absl::StrAppend(out, "[");
      bool first = true;
      for (const YAML::Node& item : node) {
        if (!first) absl::StrAppend(out, ",");
        first = false;
        RETURN_IF_ERROR(AppendJson(item, out));
      }
      absl::StrAppend(out, "]");
      return absl::OkStatus();
    }
    case YAML::NodeType::Map: {
      absl::StrAppend(out, "{");
      std::set<std::string> seen;
      bool first = true;
      for (const auto& entry : node) {
        const YAML::Node& key = entry.first;
        if (!key.IsScalar()) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "mapping key at line %d, column %d must be a plain name",
              key.Mark().line + 1, key.Mark().column + 1));
        }
        if (!seen.insert(key.Scalar()).second) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "duplicate key \"%s\" at line %d, column %d", key.Scalar(),
              key.Mark().line + 1, key.Mark().column + 1));
        }
        if (!first) absl::StrAppend(out, ",");
        first = false;
        absl::StrAppend(out, JsonQuote(key.Scalar()), ":");
        RETURN_IF_ERROR(AppendJson(entry.second, out));
      }
      absl::StrAppend(out, "}");
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
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

std::string JsonQuote(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

std::string FormatDouble(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value < 0 ? "-Infinity" : "Infinity";
  char buffer[40];
  // Whole numbers (counters, byte sizes) print without an exponent.
  if (std::fabs(value) < 1e17 && value == std::trunc(value)) {
    std::snprintf(buffer, sizeof(buffer), "%.0f", value);
    return buffer;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

absl::StatusOr<std::string> YamlToJson(const YAML::Node& node) {
  std::string out;
  RETURN_IF_ERROR(AppendJson(node, &out));
  return out;
}

}  // namespace simclr::client
