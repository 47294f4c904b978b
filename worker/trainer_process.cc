#include "worker/trainer_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace simclr::worker {
namespace {

// Runs in the forked child before exec: only async-signal-safe calls.
[[noreturn]] void ExecTrainer(char* const* argv, int stdin_fd, int log_fd, int events_fd,
                              pid_t parent, int64_t memory_limit) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(126);  // the agent died before prctl took effect
  dup2(stdin_fd, 0);
  dup2(log_fd, 1);
  dup2(log_fd, 2);
  dup2(events_fd, kTrainerEventsFd);
  for (int fd = 0; fd <= kTrainerEventsFd; ++fd) fcntl(fd, F_SETFD, 0);
  syscall(SYS_close_range, kTrainerEventsFd + 1, ~0U, 0);
  if (memory_limit > 0) {
    rlimit limit{static_cast<rlim_t>(memory_limit), static_cast<rlim_t>(memory_limit)};
    setrlimit(RLIMIT_AS, &limit);
  }
  // The agent blocks its shutdown signals and ignores SIGPIPE; both survive
  // exec, and the trainer must start from the defaults.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  execv(argv[0], argv);
  const char* error = strerror(errno);
  const char prefix[] = "simclr-worker: cannot start the trainer: ";
  (void)!write(2, prefix, sizeof(prefix) - 1);
  (void)!write(2, error, strlen(error));
  (void)!write(2, "\n", 1);
  _exit(127);
}

const char* SignalName(int signal) {
  switch (signal) {
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGINT: return "SIGINT";
    default: return "";
  }
}

}  // namespace

std::string ExitStatus::Describe() const {
  if (signal != 0) {
    const std::string name = SignalName(signal);
    return absl::StrCat("killed by signal ", signal, name.empty() ? "" : " (" + name + ")");
  }
  return absl::StrCat("exited with code ", exit_code);
}

absl::StatusOr<std::unique_ptr<TrainerProcess>> TrainerProcess::Start(
    const TrainerProcessOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("no trainer command");
  const int log_fd = ::open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                            0644);
  if (log_fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open the rank log ", options.log_path, ": ", std::strerror(errno)));
  }
  // The task goes through a socket rather than a pipe: send(MSG_NOSIGNAL)
  // to a trainer that died before reading it fails with EPIPE instead of
  // raising SIGPIPE, whatever the embedding process does with that signal.
  int stdin_pipe[2];
  int events_pipe[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stdin_pipe) != 0) {
    ::close(log_fd);
    return absl::InternalError(absl::StrCat("socketpair: ", std::strerror(errno)));
  }
  if (pipe2(events_pipe, O_CLOEXEC) != 0) {
    ::close(log_fd);
    ::close(stdin_pipe[0]);
    ::close(stdin_pipe[1]);
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  std::vector<char*> argv;
  for (const std::string& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    ExecTrainer(argv.data(), stdin_pipe[0], log_fd, events_pipe[1], parent,
                options.memory_limit_bytes);
  }
  const int fork_errno = errno;
  ::close(log_fd);
  ::close(stdin_pipe[0]);
  ::close(events_pipe[1]);
  if (pid < 0) {
    ::close(stdin_pipe[1]);
    ::close(events_pipe[0]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(fork_errno)));
  }
  // Also set here: the group must exist before the first SignalGroup, even
  // if the child has not run yet.
  setpgid(pid, pid);
  auto process = std::unique_ptr<TrainerProcess>(new TrainerProcess(pid, events_pipe[0]));

  // A trainer that dies before reading its task: EPIPE, and the exit status
  // says why.
  size_t written = 0;
  const std::string& bytes = options.stdin_bytes;
  while (written < bytes.size()) {
    const ssize_t n =
        ::send(stdin_pipe[1], bytes.data() + written, bytes.size() - written, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    written += static_cast<size_t>(n);
  }
  ::close(stdin_pipe[1]);
  return process;
}

TrainerProcess::~TrainerProcess() {
  if (!exit_.has_value()) {
    SignalGroup(SIGKILL);
    Wait(absl::InfiniteDuration());
  }
  ::close(events_fd_);
}

void TrainerProcess::SignalGroup(int signal) {
  if (exit_.has_value()) return;  // reaped: the group id may be reused
  ::kill(-pid_, signal);
}

std::optional<ExitStatus> TrainerProcess::Wait(absl::Duration timeout) {
  if (exit_.has_value()) return exit_;
  const absl::Time deadline =
      timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      ExitStatus exit;
      if (WIFSIGNALED(status)) {
        exit.signal = WTERMSIG(status);
      } else {
        exit.exit_code = WEXITSTATUS(status);
      }
      exit_ = exit;
      return exit_;
    }
    if (done < 0 && errno != EINTR) {
      exit_ = ExitStatus{};  // not our child any more: nothing to wait for
      return exit_;
    }
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

char TrainerProcess::State() const {
  std::ifstream stat(absl::StrCat("/proc/", pid_, "/stat"));
  std::string line;
  if (!std::getline(stat, line)) return '?';
  // "pid (comm) S ...": the command may hold spaces and parentheses.
  const size_t close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return '?';
  return line[close + 2];
}

std::optional<int64_t> CgroupOomKills() {
  for (const char* path :
       {"/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"}) {
    std::ifstream in(path);
    std::string key;
    int64_t value = 0;
    while (in >> key >> value) {
      if (key == "oom_kill") return value;
    }
  }
  return std::nullopt;
}

std::string TailOfFile(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff start = size > static_cast<std::streamoff>(max_bytes)
                                   ? size - static_cast<std::streamoff>(max_bytes)
                                   : 0;
  in.seekg(start);
  std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (start > 0) {
    const size_t newline = tail.find('\n');
    if (newline != std::string::npos && newline + 1 < tail.size()) tail.erase(0, newline + 1);
  }
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
  for (char& c : tail) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n') || u == 0x7f) c = '?';
  }
  return tail;
}

}  // namespace simclr::worker
