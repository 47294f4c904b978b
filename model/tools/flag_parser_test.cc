#include "model/tools/flag_parser.h"

#include "gtest/gtest.h"

namespace simclr::model {
namespace {

TEST(FlagParserTest, AcceptsSpaceAndEqualsFormsAndShortFlags) {
  FlagParser flags({"depth", "ratio", "o"});
  ASSERT_TRUE(flags.Parse({"--depth", "50", "--ratio=0.5", "-o", "json"}).ok());
  EXPECT_EQ(*flags.GetInt("depth", 0), 50);
  EXPECT_DOUBLE_EQ(*flags.GetDouble("ratio", 0), 0.5);
  EXPECT_EQ(flags.GetString("o", ""), "json");
}

TEST(FlagParserTest, AbsentFlagsTakeTheFallback) {
  FlagParser flags({"depth"});
  ASSERT_TRUE(flags.Parse({}).ok());
  EXPECT_FALSE(flags.Has("depth"));
  EXPECT_EQ(*flags.GetInt("depth", 18), 18);
}

TEST(FlagParserTest, RejectsUnknownRepeatedValuelessAndPositional) {
  EXPECT_FALSE(FlagParser({"a"}).Parse({"--b", "1"}).ok());
  EXPECT_FALSE(FlagParser({"a"}).Parse({"--a", "1", "--a", "2"}).ok());
  EXPECT_FALSE(FlagParser({"a"}).Parse({"--a"}).ok());
  EXPECT_FALSE(FlagParser({"a"}).Parse({"stray"}).ok());
}

TEST(FlagParserTest, BadNumbersNameTheFlag) {
  FlagParser flags({"depth", "w"});
  ASSERT_TRUE(flags.Parse({"--depth", "5x", "--w", "nan"}).ok());
  absl::StatusOr<int64_t> depth = flags.GetInt("depth", 0);
  EXPECT_EQ(depth.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(depth.status().message().find("--depth"), std::string::npos);
  EXPECT_FALSE(flags.GetDouble("w", 0).ok());
}

}  // namespace
}  // namespace simclr::model
