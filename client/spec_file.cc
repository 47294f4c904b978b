#include "client/spec_file.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/yaml_scalar.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/reflection.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace simclr::client {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string Where(const YAML::Node& node) {
  return absl::StrFormat("line %d, column %d", node.Mark().line + 1,
                         node.Mark().column + 1);
}

std::string Join(const std::string& path, const std::string& name) {
  return path.empty() ? name : absl::StrCat(path, ".", name);
}

// How a YAML value is described in an error: `integer 2024`, `"two"`, ...
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "null";
    case YAML::NodeType::Scalar:
      break;
  }
  if (node.Tag() == "!") return absl::StrCat("\"", node.Scalar(), "\"");
  switch (ResolvePlainScalar(node.Scalar())) {
    case ScalarKind::kBool:
      return absl::StrCat("boolean ", node.Scalar());
    case ScalarKind::kInt:
      return absl::StrCat("integer ", node.Scalar());
    case ScalarKind::kFloat:
      return absl::StrCat("number ", node.Scalar());
    case ScalarKind::kNull:
      return "null";
    case ScalarKind::kString:
      break;
  }
  return absl::StrCat("\"", node.Scalar(), "\"");
}

std::string Expected(const FieldDescriptor& field) {
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
      return "an integer";
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return "a non-negative integer";
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return "a number";
    case FieldDescriptor::CPPTYPE_BOOL:
      return "true or false";
    case FieldDescriptor::CPPTYPE_STRING:
      return "a string";
    case FieldDescriptor::CPPTYPE_ENUM:
      return "one of the names of " + field.enum_type()->name();
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return absl::StrCat("a mapping of ", field.message_type()->name(),
                          " fields");
  }
  return "a value";
}

// Whether a scalar (or null) fits a non-message field, as `kind` says it
// is. Null always fits: it means "not set".
bool ScalarFits(const YAML::Node& node, ScalarKind kind, const FieldDescriptor& field) {
  if (node.IsNull() || kind == ScalarKind::kNull) return true;
  const bool quoted = node.Tag() == "!";
  // A quoted number is accepted for numeric fields, as protobuf's JSON
  // mapping does.
  const ScalarKind plain = quoted ? ResolvePlainScalar(node.Scalar()) : kind;
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return plain == ScalarKind::kInt;
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return plain == ScalarKind::kInt || plain == ScalarKind::kFloat;
    case FieldDescriptor::CPPTYPE_BOOL:
      return kind == ScalarKind::kBool;
    case FieldDescriptor::CPPTYPE_STRING:
      return kind == ScalarKind::kString;
    case FieldDescriptor::CPPTYPE_ENUM:
      return kind == ScalarKind::kString &&
             field.enum_type()->FindValueByName(node.Scalar()) != nullptr;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return false;
  }
  return false;
}

absl::Status FillMessage(const YAML::Node& node, Message& message, const std::string& path);

// Sets `field` of `message` (appends, for a repeated field) from a scalar
// that ScalarFits.
absl::Status SetScalar(const YAML::Node& node, const FieldDescriptor& field, Message& message,
                       const std::string& path) {
  const Reflection& r = *message.GetReflection();
  const std::string& text = node.Scalar();
  const bool repeated = field.is_repeated();
  auto integer = [&](int64_t lo, int64_t hi) -> absl::StatusOr<int64_t> {
    absl::StatusOr<int64_t> value = IntValue(text);
    if (!value.ok() || *value < lo || *value > hi) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "field \"%s\" at %s: %s is out of range; expected an integer in [%d, %d]", path,
          Where(node), text, lo, hi));
    }
    return value;
  };
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      ASSIGN_OR_RETURN(int64_t v, integer(std::numeric_limits<int32_t>::min(),
                                          std::numeric_limits<int32_t>::max()));
      repeated ? r.AddInt32(&message, &field, v) : r.SetInt32(&message, &field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      ASSIGN_OR_RETURN(int64_t v, integer(0, std::numeric_limits<uint32_t>::max()));
      repeated ? r.AddUInt32(&message, &field, v) : r.SetUInt32(&message, &field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64: {
      const bool is_signed = field.cpp_type() == FieldDescriptor::CPPTYPE_INT64;
      ASSIGN_OR_RETURN(int64_t v, integer(is_signed ? std::numeric_limits<int64_t>::min() : 0,
                                          std::numeric_limits<int64_t>::max()));
      if (is_signed) {
        repeated ? r.AddInt64(&message, &field, v) : r.SetInt64(&message, &field, v);
      } else {
        repeated ? r.AddUInt64(&message, &field, v) : r.SetUInt64(&message, &field, v);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_FLOAT:
      repeated ? r.AddFloat(&message, &field, FloatValue(text))
               : r.SetFloat(&message, &field, FloatValue(text));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      repeated ? r.AddDouble(&message, &field, FloatValue(text))
               : r.SetDouble(&message, &field, FloatValue(text));
      break;
    case FieldDescriptor::CPPTYPE_BOOL: {
      const bool v = absl::AsciiStrToLower(text) == "true";
      repeated ? r.AddBool(&message, &field, v) : r.SetBool(&message, &field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING:
      repeated ? r.AddString(&message, &field, text) : r.SetString(&message, &field, text);
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* value = field.enum_type()->FindValueByName(text);
      repeated ? r.AddEnum(&message, &field, value) : r.SetEnum(&message, &field, value);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return absl::OkStatus();
}

// Sets `field` of `message` from `value`: a scalar, a list or a mapping.
absl::Status SetField(const YAML::Node& value, const FieldDescriptor& field, Message& message,
                      const std::string& path) {
  auto mismatch = [&](const std::string& expected) {
    std::string hint;
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_STRING && value.IsScalar()) {
      hint = " (quote it to make it a string)";
    }
    return absl::InvalidArgumentError(absl::StrFormat(
        "field \"%s\" at %s: expected %s, got %s%s", path, Where(value), expected,
        Describe(value), hint));
  };
  if (value.IsNull()) return absl::OkStatus();  // not set
  const Reflection& r = *message.GetReflection();
  if (field.is_map()) {
    if (!value.IsMap()) return mismatch("a mapping");
    const Descriptor& entry_type = *field.message_type();
    std::set<std::string> keys;
    for (const auto& entry : value) {
      const std::string key_path = absl::StrCat(path, ".", entry.first.Scalar());
      if (!entry.first.IsScalar() || !keys.insert(entry.first.Scalar()).second) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "key at %s: expected a distinct name of field \"%s\", got %s", Where(entry.first),
            path, Describe(entry.first)));
      }
      Message& item = *r.AddMessage(&message, &field);
      RETURN_IF_ERROR(SetScalar(entry.first, *entry_type.map_key(), item, key_path));
      RETURN_IF_ERROR(SetField(entry.second, *entry_type.map_value(), item, key_path));
    }
    return absl::OkStatus();
  }
  if (field.is_repeated()) {
    if (!value.IsSequence()) return mismatch("a list of " + Expected(field));
    int i = 0;
    for (const YAML::Node& item : value) {
      const std::string item_path = absl::StrCat(path, "[", i++, "]");
      if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        RETURN_IF_ERROR(FillMessage(item, *r.AddMessage(&message, &field), item_path));
        continue;
      }
      ASSIGN_OR_RETURN(ScalarKind kind, KindOfScalar(item));
      if (!item.IsScalar() || !ScalarFits(item, kind, field)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "field \"%s\" at %s: expected %s, got %s", item_path, Where(item), Expected(field),
            Describe(item)));
      }
      RETURN_IF_ERROR(SetScalar(item, field, message, item_path));
    }
    return absl::OkStatus();
  }
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    if (!value.IsMap()) return mismatch(Expected(field));
    return FillMessage(value, *r.MutableMessage(&message, &field), path);
  }
  if (!value.IsScalar()) return mismatch(Expected(field));
  ASSIGN_OR_RETURN(ScalarKind kind, KindOfScalar(value));
  if (kind == ScalarKind::kNull) return absl::OkStatus();
  if (!ScalarFits(value, kind, field)) return mismatch(Expected(field));
  return SetScalar(value, field, message, path);
}

// Fills `message` from a mapping of its fields, naming the field path, the
// line and what was expected in every error.
absl::Status FillMessage(const YAML::Node& node, Message& message, const std::string& path) {
  const Descriptor& type = *message.GetDescriptor();
  if (!node.IsMap()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s at %s: expected a mapping of %s fields, got %s",
        path.empty() ? "document" : absl::StrCat("field \"", path, "\""), Where(node),
        type.name(), Describe(node)));
  }
  std::set<const FieldDescriptor*> seen;
  for (const auto& entry : node) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "key at %s: expected a field name of %s, got %s", Where(key), type.name(),
          Describe(key)));
    }
    const std::string& name = key.Scalar();
    const FieldDescriptor* field = type.FindFieldByName(name);
    // Protobuf's JSON mapping also accepts lowerCamelCase names (worldSize).
    for (int i = 0; field == nullptr && i < type.field_count(); ++i) {
      if (type.field(i)->json_name() == name) field = type.field(i);
    }
    if (field == nullptr) {
      std::vector<std::string> names;
      for (int i = 0; i < type.field_count(); ++i) names.push_back(type.field(i)->name());
      return absl::InvalidArgumentError(absl::StrFormat(
          "unknown field \"%s\" at %s; expected one of: %s", Join(path, name), Where(key),
          absl::StrJoin(names, ", ")));
    }
    if (!seen.insert(field).second) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "duplicate field \"%s\" at %s", Join(path, name), Where(key)));
    }
    RETURN_IF_ERROR(SetField(entry.second, *field, message, Join(path, name)));
  }
  return absl::OkStatus();
}

std::string SpecLabel(int number, const YAML::Node& document) {
  if (document.IsMap()) {
    const YAML::Node name = document["name"];
    if (name && name.IsScalar() && !name.Scalar().empty()) {
      return absl::StrFormat("spec %d (%s)", number, name.Scalar());
    }
  }
  return absl::StrFormat("spec %d", number);
}

absl::StatusOr<v1::JobSpec> ParseDocument(const YAML::Node& document) {
  v1::JobSpec spec;
  RETURN_IF_ERROR(FillMessage(document, spec, ""));
  return spec;
}

// The deepest nesting of flow collections ([...], {...}) outside quoted
// strings and comments: yaml-cpp parses them recursively, so "[[[[..." a
// megabyte deep would overflow the stack before any field is looked at.
int FlowDepth(absl::string_view text) {
  int depth = 0;
  int deepest = 0;
  char quote = 0;
  bool comment = false;
  for (char c : text) {
    if (comment) {
      comment = c != '\n';
    } else if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#') {
      comment = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// The number of documents in `text`, counting at most `limit` + 1. Throws
// YAML::Exception for a syntax error, as LoadAll would.
size_t CountDocuments(absl::string_view text, size_t limit) {
  struct Ignore final : YAML::EventHandler {
    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
  } ignore;
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  size_t count = 0;
  while (count <= limit && parser.HandleNextDocument(ignore)) ++count;
  return count;
}

}  // namespace

absl::StatusOr<std::vector<v1::JobSpec>> ParseJobSpecs(
    absl::string_view yaml_text) {
  if (yaml_text.size() > kMaxSpecFileBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "job file of %d bytes; expected at most %d", yaml_text.size(), kMaxSpecFileBytes));
  }
  // YAML 1.2 allows no C0 control character but tab, line feed and carriage
  // return (its c-printable set).
  int line = 1;
  for (size_t i = 0, column = 1; i < yaml_text.size(); ++i, ++column) {
    const auto c = static_cast<unsigned char>(yaml_text[i]);
    if (c == '\n') {
      ++line;
      column = 0;
    } else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "line %d, column %d: control character 0x%02x; YAML allows tab, line feed and "
          "carriage return only", line, column, c));
    }
  }
  if (const int depth = FlowDepth(yaml_text); depth > kMaxSpecNesting) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "job file nests [ ] and { } %d deep; expected at most %d", depth, kMaxSpecNesting));
  }
  std::vector<YAML::Node> documents;
  try {
    // yaml-cpp 0.7 reads some short garbage (",)", ",\b") as an endless
    // stream of empty documents, and LoadAll never returns: count first.
    if (CountDocuments(yaml_text, kMaxSpecDocuments) > kMaxSpecDocuments) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "job file holds more than %d documents", kMaxSpecDocuments));
    }
    documents = YAML::LoadAll(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "YAML syntax error at line %d, column %d: %s", e.mark.line + 1,
        e.mark.column + 1, e.msg));
  }
  std::vector<v1::JobSpec> specs;
  int number = 0;
  for (const YAML::Node& document : documents) {
    if (!document || document.IsNull()) continue;
    ++number;
    absl::StatusOr<v1::JobSpec> spec;
    try {
      spec = ParseDocument(document);
    } catch (const YAML::Exception& e) {
      spec = absl::InvalidArgumentError(e.what());
    }
    if (!spec.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          SpecLabel(number, document), ": ", spec.status().message()));
    }
    specs.push_back(*std::move(spec));
  }
  if (specs.empty()) {
    return absl::InvalidArgumentError(
        "no job specs: expected at least one YAML document with a JobSpec");
  }
  return specs;
}

}  // namespace simclr::client
