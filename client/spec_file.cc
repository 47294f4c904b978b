#include "client/spec_file.h"

#include <algorithm>
#include <sstream>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/yaml_json.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace simclr::client {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

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

// Whether a scalar (or null) fits a non-message field. Null always fits: the
// JSON mapping reads it as "not set".
bool ScalarFits(const YAML::Node& node, const FieldDescriptor& field) {
  if (node.IsNull()) return true;
  if (!node.IsScalar()) return false;
  bool quoted = node.Tag() == "!";
  // A quoted number is accepted for numeric fields, as the JSON mapping does.
  ScalarKind kind = ResolvePlainScalar(node.Scalar());
  if (quoted && field.cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
    return true;
  }
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return kind == ScalarKind::kInt;
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return kind == ScalarKind::kInt || kind == ScalarKind::kFloat;
    case FieldDescriptor::CPPTYPE_BOOL:
      return !quoted && kind == ScalarKind::kBool;
    case FieldDescriptor::CPPTYPE_STRING:
      return kind == ScalarKind::kString;
    case FieldDescriptor::CPPTYPE_ENUM:
      return kind == ScalarKind::kString || kind == ScalarKind::kInt;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return false;
  }
  return false;
}

absl::Status CheckMessage(const YAML::Node& node, const Descriptor& type,
                          const std::string& path);

absl::Status CheckValue(const YAML::Node& value, const FieldDescriptor& field,
                        const std::string& path) {
  auto mismatch = [&](const std::string& expected) {
    std::string hint;
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_STRING &&
        value.IsScalar()) {
      hint = " (quote it to make it a string)";
    }
    return absl::InvalidArgumentError(absl::StrFormat(
        "field \"%s\" at %s: expected %s, got %s%s", path, Where(value),
        expected, Describe(value), hint));
  };
  if (field.is_map()) {
    // No map fields in JobSpec today; the JSON mapping checks them.
    if (!value.IsMap() && !value.IsNull()) return mismatch("a mapping");
    return absl::OkStatus();
  }
  if (field.is_repeated() && !value.IsNull()) {
    if (!value.IsSequence()) return mismatch("a list of " + Expected(field));
    int i = 0;
    for (const YAML::Node& item : value) {
      std::string item_path = absl::StrCat(path, "[", i++, "]");
      if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        RETURN_IF_ERROR(CheckMessage(item, *field.message_type(), item_path));
      } else if (!ScalarFits(item, field)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "field \"%s\" at %s: expected %s, got %s", item_path, Where(item),
            Expected(field), Describe(item)));
      }
    }
    return absl::OkStatus();
  }
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    if (value.IsNull()) return absl::OkStatus();
    if (!value.IsMap()) return mismatch(Expected(field));
    return CheckMessage(value, *field.message_type(), path);
  }
  if (!ScalarFits(value, field)) return mismatch(Expected(field));
  return absl::OkStatus();
}

absl::Status CheckMessage(const YAML::Node& node, const Descriptor& type,
                          const std::string& path) {
  if (!node.IsMap()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s at %s: expected a mapping of %s fields, got %s",
        path.empty() ? "document" : absl::StrCat("field \"", path, "\""),
        Where(node), type.name(), Describe(node)));
  }
  for (const auto& entry : node) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "key at %s: expected a field name of %s, got %s", Where(key),
          type.name(), Describe(key)));
    }
    const std::string& name = key.Scalar();
    const FieldDescriptor* field = type.FindFieldByName(name);
    // The JSON mapping also accepts lowerCamelCase names (worldSize).
    for (int i = 0; field == nullptr && i < type.field_count(); ++i) {
      if (type.field(i)->json_name() == name) field = type.field(i);
    }
    if (field == nullptr) {
      std::vector<std::string> names;
      for (int i = 0; i < type.field_count(); ++i) {
        names.push_back(type.field(i)->name());
      }
      return absl::InvalidArgumentError(absl::StrFormat(
          "unknown field \"%s\" at %s; expected one of: %s", Join(path, name),
          Where(key), absl::StrJoin(names, ", ")));
    }
    RETURN_IF_ERROR(CheckValue(entry.second, *field, Join(path, name)));
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
  RETURN_IF_ERROR(CheckMessage(document, *v1::JobSpec::descriptor(), ""));
  ASSIGN_OR_RETURN(std::string json, YamlToJson(document));
  v1::JobSpec spec;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, &spec,
                                                            options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(std::string(status.message()));
  }
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
