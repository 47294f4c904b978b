#include "model/checkpoint/checkpoint_files.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace simclr::model {
namespace {

std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/checkpoint_files_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void Touch(const std::string& path) { std::ofstream(path) << "x"; }

bool Exists(const std::string& path) { return std::filesystem::exists(path); }

TEST(CheckpointFilesTest, NamesRoundTripAndForeignNamesAreRejected) {
  int64_t step = -1;
  EXPECT_TRUE(ParseCheckpointFileName(CheckpointFileName(120), &step));
  EXPECT_EQ(step, 120);
  for (const char* name : {"ckpt-.simclr", "ckpt-x.simclr", "ckpt-1.simclr.tmp.abcdef",
                           ".ckpt-1.simclr.tmp.abcdef", "ckpt-1", "steps.jsonl"}) {
    EXPECT_FALSE(ParseCheckpointFileName(name, &step)) << name;
  }
  EXPECT_EQ(AttemptDirectory("/a/j-1", 3), "/a/j-1/attempt-3");
  EXPECT_EQ(TemporaryCheckpointTemplate("/a/ckpt-5.simclr"), "/a/.ckpt-5.simclr.tmp.XXXXXX");
}

TEST(CheckpointFilesTest, ListingSortsByStepAndIgnoresOtherFiles) {
  const std::string dir = FreshDir("list");
  for (const char* name : {"ckpt-100.simclr", "ckpt-9.simclr", "ckpt-20.simclr",
                           ".ckpt-300.simclr.tmp.abc123", "ckpt-x.simclr", "notes.txt"}) {
    Touch(dir + "/" + name);
  }
  absl::StatusOr<std::vector<std::string>> listed = ListCheckpoints(dir);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(*listed, (std::vector<std::string>{dir + "/ckpt-9.simclr", dir + "/ckpt-20.simclr",
                                               dir + "/ckpt-100.simclr"}));
  EXPECT_EQ(ListCheckpoints(dir + "/missing").status().code(), absl::StatusCode::kNotFound);
}

TEST(CheckpointFilesTest, KeepLastDeletesOnlyTheOldest) {
  const std::string dir = FreshDir("keep");
  for (int step : {1, 2, 3, 4}) Touch(dir + "/" + CheckpointFileName(step));
  ASSERT_TRUE(KeepLastCheckpoints(dir, 2).ok());
  absl::StatusOr<std::vector<std::string>> listed = ListCheckpoints(dir);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (std::vector<std::string>{dir + "/ckpt-3.simclr", dir + "/ckpt-4.simclr"}));
  EXPECT_EQ(KeepLastCheckpoints(dir, 0).code(), absl::StatusCode::kInvalidArgument);
}

// The coordinator recorded step 2 and has not heard of 3..6 (it was down):
// retention keeps the newest three and step 2.
TEST(CheckpointFilesTest, KeepLastNeverDeletesTheProtectedCheckpoint) {
  const std::string dir = FreshDir("protect");
  for (int step : {1, 2, 3, 4, 5, 6}) Touch(dir + "/" + CheckpointFileName(step));
  ASSERT_TRUE(KeepLastCheckpoints(dir, 3, dir + "/ckpt-2.simclr").ok());
  absl::StatusOr<std::vector<std::string>> listed = ListCheckpoints(dir);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (std::vector<std::string>{dir + "/ckpt-2.simclr", dir + "/ckpt-4.simclr",
                                               dir + "/ckpt-5.simclr", dir + "/ckpt-6.simclr"}));
}

TEST(CheckpointFilesTest, RemovesLeftoverTemporariesOnly) {
  const std::string dir = FreshDir("temporaries");
  for (const char* name : {".ckpt-7.simclr.tmp.a1b2c3", ".ckpt-8.simclr.tmp.zzzzzz",
                           "ckpt-6.simclr", ".hidden", "steps.jsonl"}) {
    Touch(dir + "/" + name);
  }
  absl::StatusOr<int> removed = RemoveTemporaryCheckpoints(dir);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 2);
  EXPECT_FALSE(Exists(dir + "/.ckpt-7.simclr.tmp.a1b2c3"));
  EXPECT_TRUE(Exists(dir + "/ckpt-6.simclr"));
  EXPECT_TRUE(Exists(dir + "/.hidden"));
  EXPECT_TRUE(Exists(dir + "/steps.jsonl"));
  absl::StatusOr<int> none = RemoveTemporaryCheckpoints(dir + "/missing");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
}

}  // namespace
}  // namespace simclr::model
