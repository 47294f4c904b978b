#include "model/optim/lr_schedule.h"

#include <cmath>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace simclr::model {
namespace {

LrScheduleOptions PaperOptions() {
  LrScheduleOptions options;
  options.base_learning_rate = 0.3;
  options.scaling = LrScaling::kLinear;
  options.batch_size = 4096;
  options.warmup_steps = 100;
  options.total_steps = 1100;
  return options;
}

TEST(LrScheduleTest, LinearScalingGivesPaperPeakForBatch4096) {
  absl::StatusOr<LrSchedule> schedule = LrSchedule::Create(PaperOptions());
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  EXPECT_DOUBLE_EQ(schedule->peak_learning_rate(), 4.8);  // 0.3 * 4096 / 256
}

TEST(LrScheduleTest, SqrtScalingMultipliesBySquareRootOfBatch) {
  LrScheduleOptions options = PaperOptions();
  options.scaling = LrScaling::kSqrt;
  options.base_learning_rate = 0.075;
  absl::StatusOr<LrSchedule> schedule = LrSchedule::Create(options);
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  EXPECT_DOUBLE_EQ(schedule->peak_learning_rate(), 0.075 * 64.0);
}

TEST(LrScheduleTest, WarmupRisesLinearlyFromZeroToPeak) {
  absl::StatusOr<LrSchedule> schedule = LrSchedule::Create(PaperOptions());
  ASSERT_TRUE(schedule.ok());
  EXPECT_DOUBLE_EQ(schedule->LearningRate(0), 0.0);
  EXPECT_DOUBLE_EQ(schedule->LearningRate(25), 4.8 * 0.25);
  EXPECT_DOUBLE_EQ(schedule->LearningRate(99), 4.8 * 0.99);
  EXPECT_DOUBLE_EQ(schedule->LearningRate(100), 4.8);
}

TEST(LrScheduleTest, CosineDecayHalvesAtMidpointAndEndsAtZero) {
  absl::StatusOr<LrSchedule> schedule = LrSchedule::Create(PaperOptions());
  ASSERT_TRUE(schedule.ok());
  // Decay spans steps 100..1100; the midpoint is 600.
  EXPECT_NEAR(schedule->LearningRate(600), 2.4, 1e-12);
  const double quarter = 4.8 * 0.5 * (1.0 + std::cos(M_PI * 0.25));
  EXPECT_NEAR(schedule->LearningRate(350), quarter, 1e-12);
  EXPECT_NEAR(schedule->LearningRate(1099),
              4.8 * 0.5 * (1.0 + std::cos(M_PI * 999.0 / 1000.0)), 1e-12);
  EXPECT_EQ(schedule->LearningRate(1100), 0.0);
  EXPECT_EQ(schedule->LearningRate(5000), 0.0);
}

TEST(LrScheduleTest, NoWarmupStartsAtPeak) {
  LrScheduleOptions options = PaperOptions();
  options.warmup_steps = 0;
  absl::StatusOr<LrSchedule> schedule = LrSchedule::Create(options);
  ASSERT_TRUE(schedule.ok());
  EXPECT_DOUBLE_EQ(schedule->LearningRate(0), 4.8);
  EXPECT_NEAR(schedule->LearningRate(550), 2.4, 1e-12);
}

TEST(LrScheduleTest, RejectsBadOptionsNamingTheField) {
  struct Case {
    void (*mutate)(LrScheduleOptions&);
    const char* field;
  };
  const Case cases[] = {
      {[](LrScheduleOptions& o) { o.base_learning_rate = 0; }, "base_learning_rate"},
      {[](LrScheduleOptions& o) { o.base_learning_rate = NAN; }, "base_learning_rate"},
      {[](LrScheduleOptions& o) { o.batch_size = 0; }, "batch_size"},
      {[](LrScheduleOptions& o) { o.warmup_steps = -1; }, "warmup_steps"},
      {[](LrScheduleOptions& o) { o.total_steps = 0; }, "total_steps"},
      {[](LrScheduleOptions& o) { o.warmup_steps = 2000; }, "warmup_steps"},
  };
  for (const Case& c : cases) {
    LrScheduleOptions options = PaperOptions();
    c.mutate(options);
    absl::StatusOr<LrSchedule> schedule = LrSchedule::Create(options);
    ASSERT_FALSE(schedule.ok()) << c.field;
    EXPECT_EQ(schedule.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(schedule.status().message().find(c.field), std::string::npos)
        << schedule.status();
  }
}

TEST(LrScheduleTest, ParsesScalingNamesAndRejectsOthers) {
  EXPECT_EQ(*ParseLrScaling("linear"), LrScaling::kLinear);
  EXPECT_EQ(*ParseLrScaling("sqrt"), LrScaling::kSqrt);
  absl::StatusOr<LrScaling> bad = ParseLrScaling("cubic");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("cubic"), std::string::npos);
}

}  // namespace
}  // namespace simclr::model
