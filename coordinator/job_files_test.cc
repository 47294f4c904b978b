#include "coordinator/job_files.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/checkpoint/checkpoint_files.h"

namespace simclr::coordinator {
namespace {

class JobFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/job-files";
    std::filesystem::remove_all(dir_);
  }
  void Write(int attempt, const std::string& name, const std::string& text) {
    const std::string attempt_dir = model::AttemptDirectory(dir_, attempt);
    std::filesystem::create_directories(attempt_dir);
    std::ofstream(attempt_dir + "/" + name) << text;
  }
  std::string dir_;
};

TEST_F(JobFilesTest, ReadsALogFromAnOffsetInBoundedPieces) {
  Write(1, "rank-0.log", "0123456789");
  const std::string path = model::RankLogPath(dir_, 1, 0);
  EXPECT_EQ(*ReadFileFrom(path, 0, 4), "0123");
  EXPECT_EQ(*ReadFileFrom(path, 4, 100), "456789");
  EXPECT_EQ(*ReadFileFrom(path, 10, 100), "");
  EXPECT_EQ(*ReadFileFrom(model::RankLogPath(dir_, 2, 0), 0, 100), "");  // not yet written
}

TEST_F(JobFilesTest, MergesTheStepLogsOfEveryAttemptTheLatestWinning) {
  // Attempt 1 reached step 3 and checkpointed at 2; attempt 2 redid step 3.
  Write(1, model::kStepLogName,
        "{\"step\": 1, \"epoch\": 0.25, \"loss\": 9.5, \"lr\": 0}\n"
        "{\"step\": 2, \"epoch\": 0.5, \"loss\": 9.0, \"lr\": 0.1}\n"
        "{\"step\": 3, \"epoch\": 0.75, \"loss\": 8.9, \"lr\": 0.2}\n"
        "{\"step\": 4, \"epo");  // torn by the kill
  Write(2, model::kStepLogName,
        "{\"step\": 3, \"epoch\": 0.75, \"loss\": 8.5, \"lr\": 0.2, \"note\": \"text\"}\n"
        "not json\n"
        "{\"step\": 4, \"epoch\": 1.0, \"time\": 1764500000.25, \"loss\": 8.0, \"lr\": 0.3}\n");
  auto metrics = ReadJobMetrics(dir_, 2);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  ASSERT_EQ(metrics->steps_size(), 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(metrics->steps(i).step(), i + 1);
  EXPECT_EQ(metrics->steps(2).values().at("loss"), 8.5);  // attempt 2's
  EXPECT_EQ(metrics->steps(3).epoch(), 1.0);
  EXPECT_EQ(metrics->steps(3).time(), 1764500000.25);
  EXPECT_EQ(metrics->steps(3).values().count("time"), 0u);
  EXPECT_EQ(metrics->steps(2).time(), 0.0);  // a log from before the field
  EXPECT_EQ(metrics->steps(0).values().at("lr"), 0.0);
  EXPECT_EQ(metrics->steps(2).values().count("note"), 0u);  // numbers only
  EXPECT_EQ(metrics->steps(2).values().count("epoch"), 0u);
  EXPECT_EQ(ReadJobMetrics(dir_, 0)->steps_size(), 0);
  EXPECT_EQ(ReadJobMetrics(dir_ + "/missing", 3)->steps_size(), 0);
}

}  // namespace
}  // namespace simclr::coordinator
