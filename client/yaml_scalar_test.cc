#include "client/yaml_scalar.h"

#include <cmath>
#include <cstdint>
#include <limits>
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

TEST(KindOfScalarTest, QuotesAndTagsDecideBeforeTheText) {
  YAML::Node node = YAML::Load("{a: 8, b: '8', c: !!str 8, d: !!float 8, e: !!int x}");
  EXPECT_EQ(*KindOfScalar(node["a"]), ScalarKind::kInt);
  EXPECT_EQ(*KindOfScalar(node["b"]), ScalarKind::kString);
  EXPECT_EQ(*KindOfScalar(node["c"]), ScalarKind::kString);
  EXPECT_EQ(*KindOfScalar(node["d"]), ScalarKind::kFloat);
  auto bad = KindOfScalar(node["e"]);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unsupported tag"), std::string::npos) << bad.status();
}

TEST(IntValueTest, ReadsEveryBaseAndRefusesWhatDoesNotFit) {
  EXPECT_EQ(*IntValue("+007"), 7);
  EXPECT_EQ(*IntValue("-12"), -12);
  EXPECT_EQ(*IntValue("0x10"), 16);
  EXPECT_EQ(*IntValue("0o17"), 15);
  EXPECT_EQ(*IntValue("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(*IntValue("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  EXPECT_FALSE(IntValue("9223372036854775808").ok());
  EXPECT_FALSE(IntValue("99999999999999999999999").ok());
}

TEST(FloatValueTest, ReadsDecimalsInfinitiesAndNan) {
  EXPECT_EQ(FloatValue("1.0e-6"), 1.0e-6);
  EXPECT_EQ(FloatValue(".5"), 0.5);
  EXPECT_EQ(FloatValue("0x10"), 16.0);
  EXPECT_EQ(FloatValue("-.inf"), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(FloatValue(".nan")));
}

}  // namespace
}  // namespace simclr::client
