#include "client/describe.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simclr::client {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kStart = 1795000000;  // 2026-11-18 11:06:40 UTC

v1::JobEvent Event(v1::JobState from, v1::JobState to, int attempt, int64_t seconds) {
  v1::JobEvent e;
  e.set_job_id("j-7");
  e.mutable_time()->set_seconds(kStart + seconds);
  e.set_from_state(from);
  e.set_to_state(to);
  e.set_attempt(attempt);
  return e;
}

TEST(DescribeTest, TellsEachAttemptsStartAndEnd) {
  v1::JobEvent started = Event(v1::QUEUED, v1::RUNNING, 2, 60);
  started.add_workers("w-3");
  started.add_workers("w-1");
  started.set_checkpoint("/a/j-7/attempt-1/ckpt-8.simclr");
  EXPECT_EQ(EventTitle(started), "attempt 2 started");
  EXPECT_EQ(EventDetail(started),
            "on w-3 (rank 0), w-1 (rank 1); resuming from /a/j-7/attempt-1/ckpt-8.simclr");
  // Attempt 1 had reached step 11: steps 9 to 11 are trained again.
  started.set_step(11);
  EXPECT_EQ(EventDetail(started),
            "on w-3 (rank 0), w-1 (rank 1); resuming from /a/j-7/attempt-1/ckpt-8.simclr; "
            "redoes steps 9-11 (3)");
  started.clear_checkpoint();
  EXPECT_EQ(EventDetail(started),
            "on w-3 (rank 0), w-1 (rank 1); from scratch; redoes steps 1-11 (11)");

  v1::JobEvent failed = Event(v1::RUNNING, v1::QUEUED, 1, 50);
  failed.set_step(11);
  failed.set_message("attempt 1 failed: worker w-2 lost");
  EXPECT_EQ(EventTitle(failed), "attempt 1 ended, requeued");
  EXPECT_EQ(EventDetail(failed), "at step 11: attempt 1 failed: worker w-2 lost");

  EXPECT_EQ(EventTitle(Event(v1::JOB_STATE_UNSPECIFIED, v1::PENDING, 0, 0)),
            "submitted (PENDING)");
  EXPECT_EQ(EventTitle(Event(v1::PENDING, v1::QUEUED, 0, 5)), "dependency succeeded, queued");
  EXPECT_EQ(EventTitle(Event(v1::RUNNING, v1::SUCCEEDED, 2, 90)), "succeeded");
  EXPECT_EQ(EventDetail(Event(v1::QUEUED, v1::CANCELLED, 0, 9)), "-");

  v1::JobEvent note = Event(v1::RUNNING, v1::RUNNING, 2, 61);
  note.add_workers("w-3");
  note.set_step(8);
  note.set_message("resumed from ckpt-4: ckpt-8 is torn");
  EXPECT_EQ(EventTitle(note), "attempt 2 says");
  EXPECT_EQ(EventDetail(note), "at step 8: resumed from ckpt-4: ckpt-8 is torn");
}

TEST(DescribeTest, ShowsTheJobItsSpecAndItsEventsInOrder) {
  v1::Job job;
  job.set_id("j-7");
  job.mutable_spec()->set_name("pre");
  job.mutable_spec()->set_kind("pretrain");
  job.mutable_spec()->set_max_restarts(3);
  job.set_state(v1::RUNNING);
  job.set_attempts(2);
  job.set_restarts(1);
  job.add_workers("w-3");
  job.mutable_progress()->set_step(12);
  job.mutable_progress()->set_total_steps(40);
  job.mutable_created_at()->set_seconds(kStart);
  std::vector<v1::JobEvent> events = {Event(v1::JOB_STATE_UNSPECIFIED, v1::QUEUED, 0, 0),
                                      Event(v1::QUEUED, v1::RUNNING, 1, 2)};
  events[1].add_workers("w-2");
  const std::string text =
      FormatDescription(job, events, absl::FromUnixSeconds(kStart + 300));
  EXPECT_THAT(text, HasSubstr("Name:          pre\nID:            j-7\n"));
  EXPECT_THAT(text, HasSubstr("Attempts:      2 (restarts spent: 1 of 3)\n"));
  EXPECT_THAT(text, HasSubstr("Progress:      12/40 steps\n"));
  EXPECT_THAT(text, HasSubstr("Spec:\n  name: pre\n  kind: pretrain\n"));
  EXPECT_THAT(text, HasSubstr("Events:\n  2026-11-18 11:06:40 (5m ago)  submitted (QUEUED): -\n"
                              "  2026-11-18 11:06:42 (4m ago)  attempt 1 started: on w-2 "
                              "(rank 0); from scratch\n"));
}

}  // namespace
}  // namespace simclr::client
