#include "model/checkpoint/import_command.h"

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "model/checkpoint/checkpoint.h"

namespace simclr::model {
namespace {

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result RunCommand(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int code = RunImport(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(ImportCommandTest, WritesALoadableCheckpointAndReportsTheInferredArchitecture) {
  const std::string dir = absl::StrCat(testing::TempDir(), "/cmd");
  const std::string script = absl::StrCat(std::getenv("TEST_SRCDIR"),
                                          "/simclr/model/checkpoint/testdata/make_simclrv2.py");
  ASSERT_EQ(std::system(absl::StrCat("mkdir -p ", dir, " && /usr/bin/python3 ", script, " ",
                                     dir, " 50 0.125 1 3 0")
                            .c_str()),
            0);
  Result r = RunCommand({"--from", dir + "/model.pth", "--to=" + dir + "/out/nested"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, dir + "/out/nested/ckpt-0.simclr")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "\"depth\":50,\"width_multiplier\":0.125,"
                                       "\"sk_ratio\":0.0625"))
      << r.out;
  absl::StatusOr<Checkpoint> c = LoadCheckpoint(dir + "/out/nested/ckpt-0.simclr");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tensors.count("model.resnet.net.0.0.weight"), 1u);
  EXPECT_EQ(c->tensors.count("model.head.layers.6.weight"), 1u);
}

TEST(ImportCommandTest, MissingRequiredFlagIsAUsageError) {
  Result r = RunCommand({"--from", "x.pth"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--to is required")) << r.err;
}

TEST(ImportCommandTest, UnknownFlagAndBadNumbersAreUsageErrorsNamingTheFlag) {
  Result unknown = RunCommand({"--from", "x.pth", "--to", "d", "--color", "red"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_TRUE(absl::StrContains(unknown.err, "--color")) << unknown.err;
  Result bad = RunCommand({"--from", "x.pth", "--to", "d", "--depth", "fifty"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_TRUE(absl::StrContains(bad.err, "--depth")) << bad.err;
  EXPECT_TRUE(absl::StrContains(bad.err, "fifty")) << bad.err;
}

TEST(ImportCommandTest, UnreadableInputIsAFailureNamingTheFile) {
  Result r = RunCommand({"--from", "/nonexistent/r50.pth", "--to", testing::TempDir() + "/x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "/nonexistent/r50.pth")) << r.err;
}

}  // namespace
}  // namespace simclr::model
