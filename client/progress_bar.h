// The status line of `simclrctl watch`: a progress bar redrawn in place on a
// terminal, or plain lines when output goes to a file or a pipe.
#ifndef SIMCLR_CLIENT_PROGRESS_BAR_H_
#define SIMCLR_CLIENT_PROGRESS_BAR_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "common/clock.h"
#include "proto/simclr/v1/job.pb.h"

namespace simclr::client {

// Renders Job snapshots of one job as a status line, e.g.
//   fmnist-pretrain RUNNING [######......] 4/8 50% loss 4.2500 512 img/s ETA 0:12
// A job that waits (PENDING, QUEUED) says why, from its reason.
// The ETA comes from the step rate observed between snapshots (the clock's
// time at each Observe), falling back to the images_per_second metric and
// the batch size before two distinct steps have been seen. A restart (the
// step going backwards or a new attempt) starts the measurement over.
//
// Pure: no I/O, the caller writes the text. Not thread-safe.
//
//   ProgressBar bar(Clock::Real());
//   bar.Observe(job);
//   std::cout << '\r' << bar.Render(terminal_width) << std::flush;
class ProgressBar {
 public:
  explicit ProgressBar(const Clock& clock) : clock_(clock) {}  // not owned

  // Records a snapshot; Render and PlainLine show the latest one.
  void Observe(const v1::Job& job);

  // The status line, at most `width` columns, with no newline or carriage
  // return. When it does not fit, the bar goes first, then the least useful
  // fields (name, images/s, loss), then the text is cut.
  std::string Render(int width) const;

  // The same facts as one plain line without a bar, for logs.
  std::string PlainLine() const;

  // Time left at the observed rate; nullopt when unknown or not running.
  std::optional<absl::Duration> Eta() const;

  const v1::Job& job() const { return job_; }

 private:
  bool IsWaiting() const;

  const Clock& clock_;
  v1::Job job_;
  bool observed_ = false;
  // Where the current rate measurement started.
  absl::Time start_time_;
  int64_t start_step_ = 0;
  int32_t start_attempt_ = 0;
  // The latest snapshot's time.
  absl::Time last_time_;
};

// "0:12", "3:07", "1:02:03".
std::string FormatEta(absl::Duration eta);

}  // namespace simclr::client

#endif  // SIMCLR_CLIENT_PROGRESS_BAR_H_
