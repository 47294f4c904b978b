// The agent's supervision of a trainer process, against a fake trainer
// (worker/testing/fake_trainer.cc) that ends in each way a trainer can.
#include "worker/trainer_process_runner.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simclr::worker {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class RecordingContext final : public TaskContext {
 public:
  bool cancelled() const override { return cancelled_; }
  void Report(const v1::Progress& progress, const std::map<std::string, double>& metrics,
              const std::string& checkpoint) override {
    absl::MutexLock lock(&mu_);
    if (cancel_on_report) cancelled_ = true;
    steps.push_back(progress.step());
    if (!checkpoint.empty()) checkpoints.push_back(checkpoint);
    last_metrics = metrics;
  }
  void Note(const std::string& what) override {
    absl::MutexLock lock(&mu_);
    notes.push_back(what);
  }

  std::atomic<bool> cancelled_{false};
  // Cancels at the trainer's first report, by which time it has set up its
  // signal handling (a cancel before that would find the default SIGTERM).
  bool cancel_on_report = false;
  absl::Mutex mu_;
  std::vector<int64_t> steps;
  std::vector<std::string> checkpoints;
  std::vector<std::string> notes;
  std::map<std::string, double> last_metrics;
};

class RecordingObserver final : public TrainingObserver {
 public:
  void OnStep(const TaskLabels& task, const StepStats& stats) override {
    absl::MutexLock lock(&mu_);
    losses.push_back(stats.loss);
    labels = task;
  }
  void OnCheckpoint(const TaskLabels&, double) override {}
  void OnEvaluation(const TaskLabels&, double top1, double) override {
    absl::MutexLock lock(&mu_);
    this->top1 = top1;
  }
  void OnTaskEnd(const TaskLabels&) override {
    absl::MutexLock lock(&mu_);
    ++ended;
  }

  absl::Mutex mu_;
  std::vector<double> losses;
  TaskLabels labels;
  double top1 = -1;
  int ended = 0;
};

class TrainerProcessRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(std::getenv("TEST_TMPDIR"), "/",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    task_.set_task_id("j-1.2");
    task_.set_job_id("j-1");
    task_.set_attempt(2);
    task_.set_rank(1);
    task_.set_world_size(2);
    task_.mutable_spec()->set_kind("pretrain");
    task_.set_artifact_dir(dir_);
  }

  absl::StatusOr<TaskResult> Run(const std::string& mode, std::vector<std::string> args = {}) {
    TrainerProcessRunnerOptions options;
    options.trainer_path =
        absl::StrCat(std::getenv("TEST_SRCDIR"), "/simclr/worker/fake_trainer");
    options.trainer_args = {"--mode=" + mode};
    options.trainer_args.insert(options.trainer_args.end(), args.begin(), args.end());
    options.grace_period = absl::Seconds(1);
    options.liveness_timeout = absl::Seconds(2);
    options.poll_interval = absl::Milliseconds(20);
    options.memory_limit_bytes = memory_limit_;
    TrainerProcessRunner runner(options, &observer_, &Clock::Real());
    return runner.Run(task_, context_);
  }

  std::string Log() {
    std::ifstream in(TrainerProcessRunner::LogPath(task_));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::string dir_;
  v1::TaskAssignment task_;
  RecordingContext context_;
  RecordingObserver observer_;
  int64_t memory_limit_ = 0;
};

TEST_F(TrainerProcessRunnerTest, ForwardsProgressStepsAndTheResult) {
  absl::StatusOr<TaskResult> result = Run("succeed");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->checkpoint, dir_ + "/ckpt-2");
  EXPECT_DOUBLE_EQ(result->metrics.at("top1"), 0.75);
  EXPECT_EQ(context_.steps, std::vector<int64_t>{1});
  EXPECT_EQ(context_.checkpoints, std::vector<std::string>{dir_ + "/ckpt-1"});
  EXPECT_DOUBLE_EQ(context_.last_metrics.at("loss"), 2.5);
  EXPECT_EQ(observer_.losses, std::vector<double>{2.5});
  EXPECT_EQ(observer_.labels.job, "j-1");
  EXPECT_EQ(observer_.labels.rank, 1);
  EXPECT_DOUBLE_EQ(observer_.top1, 0.75);
  EXPECT_EQ(observer_.ended, 1);
}

TEST_F(TrainerProcessRunnerTest, WritesTheTrainersOutputToTheRankLogOfItsAttempt) {
  ASSERT_TRUE(Run("succeed").ok());
  EXPECT_EQ(TrainerProcessRunner::LogPath(task_), dir_ + "/attempt-2/rank-1.log");
  EXPECT_THAT(Log(), HasSubstr("fake trainer succeed: j-1.2"));
}

TEST_F(TrainerProcessRunnerTest, PassesOnTheTrainersOwnError) {
  absl::StatusOr<TaskResult> result = Run("fail");
  EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
  EXPECT_EQ(std::string(result.status().message()), "data.path: nothing at /nowhere");
}

TEST_F(TrainerProcessRunnerTest, AnExitWithoutAResultNamesTheCodeAndTheLogTail) {
  absl::StatusOr<TaskResult> result = Run("exit3");
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), StartsWith("trainer exited with code 3 without a result"));
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("last output: fake trainer exit3: j-1.2"));
}

TEST_F(TrainerProcessRunnerTest, ACrashNamesTheSignal) {
  absl::StatusOr<TaskResult> result = Run("abort");
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("killed by signal 6 (SIGABRT)"));
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("about to abort"));
}

TEST_F(TrainerProcessRunnerTest, TheReasonHoldsABoundedTailOfALongLog) {
  // Earlier attempts' noise in the same file must not flood the reason.
  std::filesystem::create_directories(dir_ + "/attempt-2");
  std::ofstream(TrainerProcessRunner::LogPath(task_)) << std::string(100000, 'x') << "\n";
  absl::StatusOr<TaskResult> result = Run("exit3");
  EXPECT_LT(result.status().message().size(), 400u);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("fake trainer exit3"));
}

TEST_F(TrainerProcessRunnerTest, ACancelStopsTheTrainerWithSigterm) {
  context_.cancel_on_report = true;
  const absl::Time start = absl::Now();
  absl::StatusOr<TaskResult> result = Run("until_term");
  EXPECT_TRUE(absl::IsCancelled(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("exited with code 1 after a cancel"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
}

TEST_F(TrainerProcessRunnerTest, ATrainerThatIgnoresSigtermIsKilledAfterTheGracePeriod) {
  context_.cancel_on_report = true;
  absl::StatusOr<TaskResult> result = Run("ignore_term");
  EXPECT_TRUE(absl::IsCancelled(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("killed by signal 9 (SIGKILL)"));
  EXPECT_EQ(context_.steps, std::vector<int64_t>{1});
}

TEST_F(TrainerProcessRunnerTest, AFrozenTrainerIsKilledAndNamedAsSuch) {
  absl::StatusOr<TaskResult> result = Run("freeze");
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("trainer sent nothing for"));
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("process state: stopped by a signal"));
  EXPECT_EQ(context_.steps, std::vector<int64_t>{1});  // what it did before still counts
}

TEST_F(TrainerProcessRunnerTest, TheMemoryLimitHoldsTheTrainer) {
  memory_limit_ = int64_t{512} << 20;
  absl::StatusOr<TaskResult> over = Run("allocate", {"--allocate_mb=1024"});
  EXPECT_TRUE(absl::IsResourceExhausted(over.status())) << over.status();
  EXPECT_THAT(std::string(over.status().message()), StartsWith("out of memory"));
  // The same allocation without the limit succeeds: it was the limit.
  memory_limit_ = 0;
  EXPECT_TRUE(Run("allocate", {"--allocate_mb=1024"}).ok());
}

TEST_F(TrainerProcessRunnerTest, AMissingTrainerBinaryFailsTheTask) {
  TrainerProcessRunnerOptions options;
  options.trainer_path = "/nonexistent/simclr-trainer";
  options.poll_interval = absl::Milliseconds(20);
  TrainerProcessRunner runner(options, nullptr, &Clock::Real());
  absl::StatusOr<TaskResult> result = runner.Run(task_, context_);
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("exited with code 127"));
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("cannot start the trainer"));
}

}  // namespace
}  // namespace simclr::worker
