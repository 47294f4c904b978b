#include "client/view.h"

#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/yaml_json.h"
#include "yaml-cpp/yaml.h"

namespace simclr::client {

View View::Bool(bool value) {
  View v;
  v.type_ = Type::kBool;
  v.bool_ = value;
  return v;
}

View View::Number(double value) {
  View v;
  v.type_ = Type::kNumber;
  v.number_ = value;
  return v;
}

View View::String(std::string value) {
  View v;
  v.type_ = Type::kString;
  v.string_ = std::move(value);
  return v;
}

View View::List() {
  View v;
  v.type_ = Type::kList;
  return v;
}

View View::Object() {
  View v;
  v.type_ = Type::kObject;
  return v;
}

View& View::Set(absl::string_view key, View value) {
  for (auto& field : fields_) {
    if (field.first == key) {
      field.second = std::move(value);
      return *this;
    }
  }
  fields_.emplace_back(std::string(key), std::move(value));
  return *this;
}

View& View::Append(View value) {
  items_.push_back(std::move(value));
  return *this;
}

const View* View::Find(absl::string_view key) const {
  for (const auto& field : fields_) {
    if (field.first == key) return &field.second;
  }
  return nullptr;
}

namespace {

std::string JsonNumber(double value) {
  std::string text = FormatDouble(value);
  return std::isfinite(value) ? text : JsonQuote(text);
}

void AppendJson(const View& view, bool pretty, int depth, std::string* out) {
  const std::string indent = pretty ? std::string(2 * (depth + 1), ' ') : "";
  const std::string close = pretty ? std::string(2 * depth, ' ') : "";
  const char* newline = pretty ? "\n" : "";
  switch (view.type()) {
    case View::Type::kNull:
      absl::StrAppend(out, "null");
      return;
    case View::Type::kBool:
      absl::StrAppend(out, view.bool_value() ? "true" : "false");
      return;
    case View::Type::kNumber:
      absl::StrAppend(out, JsonNumber(view.number_value()));
      return;
    case View::Type::kString:
      absl::StrAppend(out, JsonQuote(view.string_value()));
      return;
    case View::Type::kList: {
      if (view.items().empty()) {
        absl::StrAppend(out, "[]");
        return;
      }
      absl::StrAppend(out, "[", newline);
      for (size_t i = 0; i < view.items().size(); ++i) {
        absl::StrAppend(out, indent);
        AppendJson(view.items()[i], pretty, depth + 1, out);
        absl::StrAppend(out, i + 1 < view.items().size() ? "," : "", newline);
      }
      absl::StrAppend(out, close, "]");
      return;
    }
    case View::Type::kObject: {
      if (view.fields().empty()) {
        absl::StrAppend(out, "{}");
        return;
      }
      absl::StrAppend(out, "{", newline);
      for (size_t i = 0; i < view.fields().size(); ++i) {
        absl::StrAppend(out, indent, JsonQuote(view.fields()[i].first),
                        pretty ? ": " : ":");
        AppendJson(view.fields()[i].second, pretty, depth + 1, out);
        absl::StrAppend(out, i + 1 < view.fields().size() ? "," : "",
                        newline);
      }
      absl::StrAppend(out, close, "}");
      return;
    }
  }
}

void EmitString(const std::string& text, YAML::Emitter* out) {
  if (ResolvePlainScalar(text) != ScalarKind::kString) {
    *out << YAML::DoubleQuoted << text;
  } else {
    *out << text;
  }
}

void EmitYaml(const View& view, YAML::Emitter* out) {
  switch (view.type()) {
    case View::Type::kNull:
      *out << YAML::Null;
      return;
    case View::Type::kBool:
      *out << (view.bool_value() ? "true" : "false");
      return;
    case View::Type::kNumber: {
      double value = view.number_value();
      if (std::isnan(value)) {
        *out << ".nan";
      } else if (std::isinf(value)) {
        *out << (value < 0 ? "-.inf" : ".inf");
      } else {
        *out << FormatDouble(value);
      }
      return;
    }
    case View::Type::kString:
      EmitString(view.string_value(), out);
      return;
    case View::Type::kList:
      if (view.items().empty()) *out << YAML::Flow;
      *out << YAML::BeginSeq;
      for (const View& item : view.items()) EmitYaml(item, out);
      *out << YAML::EndSeq;
      return;
    case View::Type::kObject:
      if (view.fields().empty()) *out << YAML::Flow;
      *out << YAML::BeginMap;
      for (const auto& field : view.fields()) {
        *out << YAML::Key;
        EmitString(field.first, out);
        *out << YAML::Value;
        EmitYaml(field.second, out);
      }
      *out << YAML::EndMap;
      return;
  }
}

}  // namespace

std::string FormatJson(const View& view, bool pretty) {
  std::string out;
  AppendJson(view, pretty, 0, &out);
  if (pretty) out += "\n";
  return out;
}

std::string FormatYaml(const View& view) {
  YAML::Emitter out;
  EmitYaml(view, &out);
  return absl::StrCat(out.c_str(), "\n");
}

}  // namespace simclr::client
