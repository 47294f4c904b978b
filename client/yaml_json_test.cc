#include "client/yaml_json.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace simclr::client {
namespace {

TEST(ResolvePlainScalarTest, TypesScalarsByYamlCoreSchema) {
  EXPECT_EQ(ResolvePlainScalar("8"), ScalarKind::kInt);
  EXPECT_EQ(ResolvePlainScalar("-12"), ScalarKind::kInt);
  EXPECT_EQ(ResolvePlainScalar("0x1F"), ScalarKind::kInt);
  EXPECT_EQ(ResolvePlainScalar("1.0e-6"), ScalarKind::kFloat);
  EXPECT_EQ(ResolvePlainScalar(".5"), ScalarKind::kFloat);
  EXPECT_EQ(ResolvePlainScalar("1."), ScalarKind::kFloat);
  EXPECT_EQ(ResolvePlainScalar("-.inf"), ScalarKind::kFloat);
  EXPECT_EQ(ResolvePlainScalar("true"), ScalarKind::kBool);
  EXPECT_EQ(ResolvePlainScalar("FALSE"), ScalarKind::kBool);
  EXPECT_EQ(ResolvePlainScalar("~"), ScalarKind::kNull);
  EXPECT_EQ(ResolvePlainScalar(""), ScalarKind::kNull);
  // YAML 1.1 spellings are plain strings under the 1.2 core schema.
  EXPECT_EQ(ResolvePlainScalar("yes"), ScalarKind::kString);
  EXPECT_EQ(ResolvePlainScalar("1e"), ScalarKind::kString);
  EXPECT_EQ(ResolvePlainScalar("fashion-mnist"), ScalarKind::kString);
  EXPECT_EQ(ResolvePlainScalar("1.2.3"), ScalarKind::kString);
}

TEST(YamlToJsonTest, ConvertsScalarsWithTheirYamlTypes) {
  YAML::Node node = YAML::Load(
      "{a: 8, b: 1.0e-6, c: true, d: fp32, e: '8', f: ~, g: +007, h: .5,"
      " i: 0x10, j: \"true\", k: [1, x]}");
  auto json = YamlToJson(node);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json,
            R"({"a":8,"b":1e-06,"c":true,"d":"fp32","e":"8","f":null,)"
            R"("g":7,"h":0.5,"i":16,"j":"true","k":[1,"x"]})");
}

TEST(YamlToJsonTest, EscapesStringsForJson) {
  YAML::Node node = YAML::Load("p: \"a\\\"b\\\\c\\n\\t\"");
  auto json = YamlToJson(node);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"p":"a\"b\\c\n\t"})");
}

TEST(YamlToJsonTest, RejectsDuplicateKeysWithTheirLine) {
  YAML::Node node = YAML::Load("a: 1\nb: 2\na: 3\n");
  auto json = YamlToJson(node);
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("duplicate key \"a\" at line 3"),
            std::string::npos)
      << json.status();
}

TEST(FormatDoubleTest, PrintsShortestTextThatReadsBackExactly) {
  EXPECT_EQ(FormatDouble(0.3), "0.3");
  EXPECT_EQ(FormatDouble(1.0e-6), "1e-06");
  EXPECT_EQ(FormatDouble(2.0), "2");
  EXPECT_EQ(FormatDouble(85899345920.0), "85899345920");
  EXPECT_EQ(FormatDouble(1e20), "1e+20");
  double third = 1.0 / 3.0;
  EXPECT_EQ(std::strtod(FormatDouble(third).c_str(), nullptr), third);
  EXPECT_EQ(FormatDouble(-INFINITY), "-Infinity");
}

}  // namespace
}  // namespace simclr::client
