// One coordinator per state directory: two on one SQLite file would both
// hand out the same job ids and overwrite each other's jobs.
#ifndef SIMCLR_COORDINATOR_STATE_DIR_LOCK_H_
#define SIMCLR_COORDINATOR_STATE_DIR_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace simclr::coordinator {

// Holds an exclusive flock(2) on <dir>/LOCK for its lifetime; the file holds
// the holder's pid. The kernel drops the lock when the process dies, however
// it dies, so a crashed coordinator never leaves a stale lock behind.
class StateDirLock {
 public:
  // FailedPrecondition naming the directory and the holder's pid when another
  // process holds it; Unavailable when the lock file cannot be opened.
  static absl::StatusOr<std::unique_ptr<StateDirLock>> Acquire(const std::string& dir);
  ~StateDirLock();
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

 private:
  explicit StateDirLock(int fd) : fd_(fd) {}
  const int fd_;
};

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_STATE_DIR_LOCK_H_
