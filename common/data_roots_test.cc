#include "common/data_roots.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simclr {
namespace {

using ::testing::HasSubstr;

TEST(DataRootsTest, AcceptsPathsUnderARootAndTheRootItself) {
  const std::vector<std::string> roots = {"/usr/share/datasets", "/data/"};
  EXPECT_TRUE(CheckUnderDataRoots("data.path", "/usr/share/datasets", roots, false).ok());
  EXPECT_TRUE(CheckUnderDataRoots("data.path", "/usr/share/datasets/fmnist", roots, false).ok());
  EXPECT_TRUE(CheckUnderDataRoots("data.path", "/data/x/./y/../z.txt", roots, false).ok());
}

TEST(DataRootsTest, RefusesPathsOutsideEveryRootNamingTheFieldAndRoots) {
  const std::vector<std::string> roots = {"/usr/share/datasets"};
  for (const std::string path : {"/etc/os-release", "/dev/zero", "/usr/share/datasets2/x",
                                 "/usr/share/datasets/../../../etc/passwd", "relative/path",
                                 "/usr/share"}) {
    absl::Status s = CheckUnderDataRoots("data.label_index_file", path, roots, false);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << path;
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("data.label_index_file: got \"" + path + "\", expected an absolute "
                          "path under one of the data roots (/usr/share/datasets)"));
  }
}

TEST(DataRootsTest, NoRootsAllowsEverything) {
  EXPECT_TRUE(CheckUnderDataRoots("data.path", "/etc/os-release", {}, true).ok());
}

TEST(DataRootsTest, ALinkInsideARootCannotLeadOutOfIt) {
  const std::string root = std::string(std::getenv("TEST_TMPDIR")) + "/root";
  std::filesystem::create_directories(root);
  std::ofstream(root + "/inside.txt") << "1\n";
  std::filesystem::remove(root + "/escape");
  std::filesystem::create_symlink("/etc/os-release", root + "/escape");
  EXPECT_TRUE(CheckUnderDataRoots("f", root + "/inside.txt", {root}, true).ok());
  // Lexically inside; resolved, outside.
  EXPECT_TRUE(CheckUnderDataRoots("f", root + "/escape", {root}, false).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(CheckUnderDataRoots("f", root + "/escape", {root}, true)));
}

}  // namespace
}  // namespace simclr
