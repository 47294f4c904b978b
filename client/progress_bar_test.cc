#include "client/progress_bar.h"

#include <string>

#include "absl/time/time.h"
#include "common/testing/fake_clock.h"
#include "gtest/gtest.h"

namespace simclr::client {
namespace {

v1::Job Snapshot(int64_t step, int64_t total, v1::JobState state) {
  v1::Job job;
  job.set_id("j-1");
  job.mutable_spec()->set_name("fmnist-pretrain");
  job.mutable_spec()->mutable_train()->set_batch_size(128);
  job.set_state(state);
  job.set_attempts(1);
  job.mutable_progress()->set_step(step);
  job.mutable_progress()->set_total_steps(total);
  (*job.mutable_metrics())["loss"] = 4.25;
  (*job.mutable_metrics())["images_per_second"] = 512;
  return job;
}

TEST(ProgressBarTest, EtaFollowsTheObservedStepRate) {
  FakeClock clock;
  ProgressBar bar(clock);
  bar.Observe(Snapshot(10, 110, v1::RUNNING));
  clock.Advance(absl::Seconds(20));
  bar.Observe(Snapshot(20, 110, v1::RUNNING));
  // 10 steps in 20 s: 0.5 step/s, 90 steps left -> 180 s.
  ASSERT_TRUE(bar.Eta().has_value());
  EXPECT_EQ(*bar.Eta(), absl::Seconds(180));
  EXPECT_EQ(bar.Render(200),
            "fmnist-pretrain RUNNING [#######.................................]"
            " 20/110 18% loss 4.2500 512 img/s ETA 3:00");
}

TEST(ProgressBarTest, EtaFallsBackToImagesPerSecondBeforeTwoSteps) {
  FakeClock clock;
  ProgressBar bar(clock);
  bar.Observe(Snapshot(0, 8, v1::RUNNING));
  // 512 img/s at batch 128 = 4 steps/s; 8 steps -> 2 s.
  ASSERT_TRUE(bar.Eta().has_value());
  EXPECT_EQ(*bar.Eta(), absl::Seconds(2));
}

TEST(ProgressBarTest, RestartStartsTheRateOver) {
  FakeClock clock;
  ProgressBar bar(clock);
  bar.Observe(Snapshot(0, 100, v1::RUNNING));
  clock.Advance(absl::Seconds(10));
  bar.Observe(Snapshot(50, 100, v1::RUNNING));
  v1::Job restarted = Snapshot(40, 100, v1::RUNNING);
  restarted.set_attempts(2);
  restarted.mutable_metrics()->erase("images_per_second");
  clock.Advance(absl::Seconds(100));
  bar.Observe(restarted);
  EXPECT_FALSE(bar.Eta().has_value());  // no rate seen yet in attempt 2
  clock.Advance(absl::Seconds(30));
  restarted.mutable_progress()->set_step(70);
  bar.Observe(restarted);
  // 30 steps in 30 s, 30 left.
  EXPECT_EQ(*bar.Eta(), absl::Seconds(30));
}

TEST(ProgressBarTest, BarFillsInProportionToProgress) {
  FakeClock clock;
  ProgressBar bar(clock);
  bar.Observe(Snapshot(4, 8, v1::RUNNING));
  // 62 columns of text leave a 16-wide bar in 81 columns.
  EXPECT_EQ(bar.Render(81),
            "fmnist-pretrain RUNNING [########........] 4/8 50% loss 4.2500 "
            "512 img/s ETA 0:01");
  bar.Observe(Snapshot(2, 8, v1::RUNNING));
  EXPECT_EQ(bar.Render(81).substr(24, 18), "[####............]");
}

TEST(ProgressBarTest, NarrowTerminalDropsBarThenLeastUsefulFields) {
  FakeClock clock;
  ProgressBar bar(clock);
  bar.Observe(Snapshot(4, 8, v1::RUNNING));
  // Without the bar the full text is 62 columns.
  EXPECT_EQ(bar.Render(62),
            "fmnist-pretrain RUNNING 4/8 50% loss 4.2500 512 img/s ETA 0:01");
  EXPECT_EQ(bar.Render(61), "RUNNING 4/8 50% loss 4.2500 512 img/s ETA 0:01");
  EXPECT_EQ(bar.Render(45), "RUNNING 4/8 50% loss 4.2500 ETA 0:01");
  EXPECT_EQ(bar.Render(30), "RUNNING 4/8 50% ETA 0:01");
  EXPECT_EQ(bar.Render(10), "RUNNING");
  EXPECT_EQ(bar.Render(4), "RUNN");
}

TEST(ProgressBarTest, FinalStateHasNoEtaAndAFullBar) {
  FakeClock clock;
  ProgressBar bar(clock);
  bar.Observe(Snapshot(8, 8, v1::SUCCEEDED));
  EXPECT_FALSE(bar.Eta().has_value());
  EXPECT_EQ(bar.Render(70),
            "fmnist-pretrain SUCCEEDED [###########] 8/8 100% loss 4.2500 "
            "512 img/s");
}

TEST(ProgressBarTest, PlainLineCarriesTheSameFacts) {
  FakeClock clock;
  ProgressBar bar(clock);
  v1::Job job = Snapshot(4, 8, v1::RUNNING);
  (*job.mutable_metrics())["lr"] = 0.15;
  bar.Observe(job);
  EXPECT_EQ(bar.PlainLine(),
            "fmnist-pretrain RUNNING step 4/8 (50%) loss 4.2500 lr 0.15 "
            "images/s 512 ETA 0:01");
}

TEST(FormatEtaTest, RoundsUpToWholeSeconds) {
  EXPECT_EQ(FormatEta(absl::Seconds(12)), "0:12");
  EXPECT_EQ(FormatEta(absl::Milliseconds(187500)), "3:08");
  EXPECT_EQ(FormatEta(absl::Seconds(3723)), "1:02:03");
}

}  // namespace
}  // namespace simclr::client
