#include "model/tools/describe_command.h"

#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace simclr::model {
namespace {

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result Describe(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = RunDescribe(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(DescribeCommandTest, JsonReportsResNet50CountsAndFlops) {
  Result r = Describe({"--depth", "50", "--width_multiplier", "1", "--sk_ratio", "0",
                  "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  // torchvision's resnet50 without its fc: 23,508,032 parameters.
  EXPECT_NE(r.out.find("\"encoder_params\": 23508032"), std::string::npos) << r.out;
  // 3-layer head: 2 x (2048x2048 + gamma + beta) + 2048x128 + gamma.
  EXPECT_NE(r.out.find("\"head_params\": 8659072"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"flops_per_image\": "), std::string::npos);
  EXPECT_NE(r.out.find("\"macs_per_image\": "), std::string::npos);
  EXPECT_EQ(r.out.front(), '{');
  EXPECT_EQ(r.out.substr(r.out.size() - 2), "}\n");
}

TEST(DescribeCommandTest, FlopsAreTwiceMacs) {
  Result r = Describe({"--depth=18", "--image_size=32", "--proj_head_layers=2",
                  "--proj_dim=64", "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto value = [&r](const std::string& key) {
    const size_t at = r.out.find("\"" + key + "\": ");
    EXPECT_NE(at, std::string::npos) << key;
    return std::stoll(r.out.substr(at + key.size() + 4));
  };
  EXPECT_EQ(value("flops_per_image"), 2 * value("macs_per_image"));
  EXPECT_GT(value("macs_per_image"), value("encoder_macs_per_image"));
}

TEST(DescribeCommandTest, TableListsOneFieldPerLine) {
  Result r = Describe({"--depth", "152", "--width_multiplier", "3", "--sk_ratio",
                  "0.0625"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("encoder_params"), std::string::npos);
  EXPECT_NE(r.out.find("flops_per_image"), std::string::npos);
  EXPECT_NE(r.out.find("2 FLOPs"), std::string::npos);
}

TEST(DescribeCommandTest, InvalidValueExitsTwoNamingTheFlag) {
  Result r = Describe({"--depth", "42"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--depth"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("18, 34, 50, 101, 152"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());

  r = Describe({"--width_multiplier", "wide"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--width_multiplier"), std::string::npos) << r.err;

  r = Describe({"--sk_ratio", "-1"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--sk_ratio"), std::string::npos) << r.err;

  r = Describe({"-o", "yaml"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("json or table"), std::string::npos) << r.err;
}

TEST(DescribeCommandTest, HelpListsTheFlagsWithTheirDefaults) {
  Result r = Describe({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("--width_multiplier"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("50"), std::string::npos) << r.out;  // --depth's default
}

TEST(DescribeCommandTest, UnknownFlagExitsTwo) {
  Result r = Describe({"--colour", "blue"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--colour"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace simclr::model
