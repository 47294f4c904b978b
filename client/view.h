// A small ordered document tree that simclrctl prints as JSON or YAML.
//
// Every output format is rendered from one View, so `-o json`, `-o yaml` and
// the tables cannot drift apart. View is used instead of
// google::protobuf::Struct because Struct's fields are a hash map and print in
// no fixed order; here an object keeps its keys in insertion order, so "id"
// and "name" come first in every format.
#ifndef SIMCLR_CLIENT_VIEW_H_
#define SIMCLR_CLIENT_VIEW_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace simclr::client {

// A JSON value: null, boolean, number, string, list or object. A value type;
// not thread-safe for concurrent mutation, safe to read from many threads.
//
//   View job = View::Object();
//   job.Set("id", View::String("j-1")).Set("step", View::Number(4));
//   std::cout << FormatJson(job);
class View {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kList, kObject };

  View() = default;  // null
  static View Null() { return View(); }
  static View Bool(bool value);
  static View Number(double value);
  static View String(std::string value);
  static View List();
  static View Object();

  // Object: sets `key` (replacing an existing value in place, else appending).
  // Returns *this. Requires type() == kObject.
  View& Set(absl::string_view key, View value);
  // List: appends. Returns *this. Requires type() == kList.
  View& Append(View value);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool bool_value() const { return bool_; }
  double number_value() const { return number_; }
  const std::string& string_value() const { return string_; }
  const std::vector<View>& items() const { return items_; }
  const std::vector<std::pair<std::string, View>>& fields() const {
    return fields_;
  }
  // Object: the value at `key`, or nullptr.
  const View* Find(absl::string_view key) const;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<View> items_;
  std::vector<std::pair<std::string, View>> fields_;
};

// JSON text. Pretty: two-space indent and a trailing newline; else compact on
// one line. Non-finite numbers print as the strings "NaN", "Infinity",
// "-Infinity" (protobuf's JSON spelling), since JSON has no such numbers.
std::string FormatJson(const View& view, bool pretty = true);

// YAML block text with a trailing newline. Strings that would read back as
// another type (e.g. "true", "8", "") are quoted.
std::string FormatYaml(const View& view);

}  // namespace simclr::client

#endif  // SIMCLR_CLIENT_VIEW_H_
