// A trainer child process: started in a process group of its own, with its
// task on stdin, its output in a log file and an events pipe on fd 3; ended
// with signals to the whole group. POSIX only, no LibTorch.
#ifndef SIMCLR_WORKER_TRAINER_PROCESS_H_
#define SIMCLR_WORKER_TRAINER_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "worker/trainer_channel.h"

namespace simclr::worker {

struct TrainerProcessOptions {
  std::vector<std::string> argv;  // argv[0]: path of the trainer binary
  std::string log_path;           // stdout and stderr, appended
  std::string stdin_bytes;        // written to the trainer's stdin, then closed
  // RLIMIT_AS of the trainer in bytes (0: none). An allocation beyond it
  // fails inside the trainer, which reports "out of memory".
  int64_t memory_limit_bytes = 0;
};

// How a process ended.
struct ExitStatus {
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal ended it
  // "exited with code 3", "killed by signal 9 (SIGKILL)".
  std::string Describe() const;
};

// Not thread-safe: one owner (the thread running the task) drives it. The
// trainer dies with its parent (PR_SET_PDEATHSIG), so a killed agent leaves
// no orphan holding a GPU or a rendezvous port.
class TrainerProcess {
 public:
  // Starts the trainer. Errors: Internal when the pipes or fork fail;
  // FailedPrecondition when the log file cannot be opened.
  static absl::StatusOr<std::unique_ptr<TrainerProcess>> Start(const TrainerProcessOptions& options);

  // SIGKILLs the group and reaps the trainer if it still runs.
  ~TrainerProcess();

  TrainerProcess(const TrainerProcess&) = delete;
  TrainerProcess& operator=(const TrainerProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The reading end of the events pipe (owned by this object).
  int events_fd() const { return events_fd_; }

  // Sends `signal` to the trainer's whole process group (the trainer and any
  // helpers it started). Harmless once it has exited.
  void SignalGroup(int signal);

  // Waits at most `timeout` for the trainer to exit; nullopt if it still runs.
  std::optional<ExitStatus> Wait(absl::Duration timeout);

  // The state letter of /proc/<pid>/stat: 'R', 'S', 'D', 'T' (stopped by a
  // signal), 't' (traced), 'Z' (exited, not reaped); '?' if unknown.
  char State() const;

 private:
  TrainerProcess(pid_t pid, int events_fd) : pid_(pid), events_fd_(events_fd) {}

  const pid_t pid_;
  const int events_fd_;
  std::optional<ExitStatus> exit_;
};

// How many processes the kernel's OOM killer has ended in this process's
// memory cgroup so far (cgroup v2 memory.events, else v1 memory.oom_control);
// nullopt where neither can be read. Compared before and after a task, it
// tells an OOM kill from any other SIGKILL.
std::optional<int64_t> CgroupOomKills();

// The last `max_bytes` of the file at `path` (whole lines where possible),
// with control characters other than newlines replaced; "" if unreadable.
std::string TailOfFile(const std::string& path, size_t max_bytes);

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_TRAINER_PROCESS_H_
