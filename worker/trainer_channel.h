// Framing of the TrainerEvents a trainer process sends its agent over a pipe
// (worker/trainer_channel.proto): a varint byte count, then the message.
// Protobuf only: both the agent (no LibTorch) and the trainer (no gRPC) link it.
#ifndef SIMCLR_WORKER_TRAINER_CHANNEL_H_
#define SIMCLR_WORKER_TRAINER_CHANNEL_H_

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "worker/trainer_channel.pb.h"

namespace simclr::worker {

// The file descriptor on which a trainer writes its events.
inline constexpr int kTrainerEventsFd = 3;

// An event larger than this is a broken trainer, not a big report.
inline constexpr size_t kMaxTrainerEventBytes = 1 << 20;

// Writes events to a file descriptor it does not own. Thread-safe: each event
// is written whole under a lock, so events of different threads never
// interleave. Writes block only while the pipe is full; the agent's reader
// never blocks on anything but the pipe, so in practice they do not.
class EventWriter {
 public:
  explicit EventWriter(int fd) : fd_(fd) {}

  // Returns Unavailable once the reading end is gone (the agent died).
  absl::Status Write(const TrainerEvent& event);

 private:
  absl::Mutex mu_;
  const int fd_ ABSL_GUARDED_BY(mu_);
};

// Reads events from a file descriptor it does not own. Not thread-safe.
//
//   EventReader reader(fd);
//   TrainerEvent event;
//   for (;;) {
//     ASSIGN_OR_RETURN(EventReader::Next next, reader.Read(absl::Seconds(1), &event));
//     if (next == EventReader::kEnd) break;
//     if (next == EventReader::kEvent) Handle(event);
//   }
class EventReader {
 public:
  enum Next { kEvent, kTimeout, kEnd };

  explicit EventReader(int fd) : fd_(fd) {}

  // Waits at most `timeout` for the next event. kEnd once the writer closed
  // its end and every whole event was read. DataLoss for a malformed or
  // oversized frame (the stream cannot be trusted after it).
  absl::StatusOr<Next> Read(absl::Duration timeout, TrainerEvent* event);

 private:
  // Moves one whole event out of buffer_: true if there was one.
  absl::StatusOr<bool> TakeBuffered(TrainerEvent* event);

  const int fd_;
  std::string buffer_;
  bool closed_ = false;
};

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_TRAINER_CHANNEL_H_
