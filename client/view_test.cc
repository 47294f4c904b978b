#include "client/view.h"

#include <cmath>
#include <string>

#include "client/yaml_json.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace simclr::client {
namespace {

View Sample() {
  View inner = View::List();
  inner.Append(View::Number(1)).Append(View::String("two"));
  View view = View::Object();
  view.Set("b", View::Number(0.3))
      .Set("a", View::String("x \"y\""))
      .Set("list", std::move(inner))
      .Set("none", View::Null())
      .Set("flag", View::Bool(false))
      .Set("empty", View::Object());
  return view;
}

TEST(ViewTest, JsonKeepsInsertionOrderAndIndents) {
  EXPECT_EQ(FormatJson(Sample()),
            "{\n"
            "  \"b\": 0.3,\n"
            "  \"a\": \"x \\\"y\\\"\",\n"
            "  \"list\": [\n"
            "    1,\n"
            "    \"two\"\n"
            "  ],\n"
            "  \"none\": null,\n"
            "  \"flag\": false,\n"
            "  \"empty\": {}\n"
            "}\n");
  EXPECT_EQ(FormatJson(Sample(), /*pretty=*/false),
            R"({"b":0.3,"a":"x \"y\"","list":[1,"two"],"none":null,)"
            R"("flag":false,"empty":{}})");
}

TEST(ViewTest, SetReplacesAnExistingKeyInPlace) {
  View view = View::Object();
  view.Set("a", View::Number(1)).Set("b", View::Number(2));
  view.Set("a", View::Number(3));
  EXPECT_EQ(FormatJson(view, false), R"({"a":3,"b":2})");
}

TEST(ViewTest, YamlReadsBackAsTheSameJson) {
  View view = Sample();
  // Strings that look like other YAML types must stay strings.
  view.Set("looks_bool", View::String("true"))
      .Set("looks_int", View::String("8"))
      .Set("looks_null", View::String(""))
      .Set("colon", View::String("a: b"));
  YAML::Node node = YAML::Load(FormatYaml(view));
  auto json = YamlToJson(node);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, FormatJson(view, /*pretty=*/false));
}

TEST(ViewTest, YamlIsBlockStyle) {
  View view = View::Object();
  view.Set("name", View::String("fmnist-pretrain"))
      .Set("step", View::Number(4));
  EXPECT_EQ(FormatYaml(view), "name: fmnist-pretrain\nstep: 4\n");
}

TEST(ViewTest, NonFiniteNumbersUseProtobufSpellingInJson) {
  View view = View::List();
  view.Append(View::Number(NAN)).Append(View::Number(-INFINITY));
  EXPECT_EQ(FormatJson(view, false), R"(["NaN","-Infinity"])");
}

}  // namespace
}  // namespace simclr::client
