// simclr-worker: the worker agent. Registers with a coordinator, keeps its
// lease, and runs each task it is assigned in a simclr-trainer child process
// that it supervises (NOTE [trainer process] in
// worker/trainer_process_runner.h). Links no LibTorch: it starts in
// milliseconds, and the trainer can be built against any LibTorch.
//
//   simclr-worker --coordinator=HOST:PORT --metrics_listen=HOST:PORT
//       --work_dir=DIR --device=cpu|cuda:N --threads=N
//
// One process per GPU (or one CPU process). Serves Prometheus metrics on
// --metrics_listen and the gRPC health-checking protocol on --health_listen;
// its trainer serves a gang's c10d rendezvous on --collective_address when it
// is rank 0. SIGTERM/SIGINT deregister (so the gang restarts elsewhere), end
// the running trainer (SIGTERM, then SIGKILL after the grace period) and exit.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/server.h>
#include <prometheus/registry.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "common/flags_usage.h"
#include "common/release_mutexes.h"
#include "common/clock.h"
#include "common/metrics_http_server.h"
#include "common/process_metrics.h"
#include "common/shutdown_signal.h"
#include "common/tls_credentials.h"
#include "common/loopback.h"
#include "common/health_server.h"
#include "worker/agent.h"
#include "worker/coordinator_connection.h"
#include "worker/trainer_process_runner.h"
#include "worker/worker_metrics.h"

ABSL_FLAG(std::string, coordinator, "127.0.0.1:50051", "coordinator host:port");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port for Prometheus metrics (/metrics); empty disables");
ABSL_FLAG(std::string, health_listen, "",
          "host:port for the gRPC health-checking service; empty disables");
ABSL_FLAG(std::string, work_dir, "", "scratch directory of this worker (required)");
ABSL_FLAG(std::string, device, "cpu", "cpu or cuda:N");
ABSL_FLAG(int, threads, 0, "intra-op threads for LibTorch (0: all cores)");
ABSL_FLAG(std::string, collective_address, "",
          "host:port this worker serves a gang's rendezvous on as rank 0 (default: the "
          "address this host reaches --coordinator from, and a free port)");
ABSL_FLAG(std::string, artifact_dir, "",
          "where the coordinator's --artifact_dir is mounted on this worker (the same path "
          "on every worker); a task whose artifacts lie elsewhere fails. Empty: no check");
ABSL_FLAG(std::string, name, "", "stable worker name (e.g. the pod name); default: assigned");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA that signed the coordinator's certificate (TLS)");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM client certificate for mutual TLS (CN = principal, O=worker), with --tls_key");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, token_file, "",
          "file holding this worker's bearer token (role worker); read again when it changes");
ABSL_FLAG(std::vector<std::string>, data_roots, {"/usr/share/datasets"},
          "comma-separated directories tasks may read data under (links resolved); a task "
          "naming anything else fails");
ABSL_FLAG(std::string, trainer, "",
          "path of the simclr-trainer binary (default: next to this binary)");
ABSL_FLAG(int64_t, task_memory_limit_mb, 0,
          "address-space limit of each trainer process in MiB (RLIMIT_AS); 0: none");
ABSL_FLAG(absl::Duration, trainer_grace_period, absl::Seconds(30),
          "how long a trainer has to stop after SIGTERM before it is killed");
ABSL_FLAG(absl::Duration, trainer_liveness_timeout, absl::Seconds(30),
          "a trainer that sends nothing for this long (frozen, hung) is killed");

namespace {

absl::Notification g_shutdown;

int Fail(const std::string& message) {
  std::fprintf(stderr, "simclr-worker: %s\n", message.c_str());
  return 2;
}

// simclr-trainer beside this binary (bazel-bin/worker, build/cmake/worker).
std::string DefaultTrainerPath() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "simclr-trainer";
  return (self.parent_path() / "simclr-trainer").string();
}

// What `simclr-trainer --probe` says of `device`: its name and memory.
struct DeviceInfo {
  std::string name;
  int64_t memory_bytes = 0;
};

absl::StatusOr<DeviceInfo> ProbeDevice(const std::string& trainer, const std::string& device) {
  const std::string command =
      absl::StrCat("'", trainer, "' --probe --device='", device, "' 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("cannot run " + trainer);
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  if (status != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("--device=", device, ": ",
                     output.empty() ? "the trainer's probe failed"
                                    : absl::StripTrailingAsciiWhitespace(output)));
  }
  DeviceInfo info;
  for (absl::string_view line : absl::StrSplit(output, '\n', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&line, "name=")) info.name = std::string(line);
    if (absl::ConsumePrefix(&line, "memory_bytes=")) {
      (void)absl::SimpleAtoi(line, &info.memory_bytes);
    }
  }
  return info;
}

}  // namespace

int main(int argc, char** argv) {
  simclr::UseReleaseMutexes();
  simclr::BlockShutdownSignals();  // before any thread starts
  // A trainer that exits before reading its task must not kill the agent.
  signal(SIGPIPE, SIG_IGN);
  simclr::SetFlagsUsage("Runs SimCLRv2 training tasks for a simclr-coordinator.",
                        "worker/main.cc");
  absl::ParseCommandLine(argc, argv);

  const std::string work_dir = absl::GetFlag(FLAGS_work_dir);
  if (work_dir.empty()) return Fail("--work_dir: got nothing, expected a directory");
  std::error_code ec;
  std::filesystem::create_directories(work_dir, ec);
  if (ec) return Fail(absl::StrCat("--work_dir: cannot create ", work_dir, ": ", ec.message()));

  const std::string device = absl::GetFlag(FLAGS_device);
  const bool cuda = absl::StartsWith(device, "cuda");
  if (device != "cpu" && !(cuda && (device == "cuda" || absl::StartsWith(device, "cuda:")))) {
    return Fail(absl::StrCat("--device: got \"", device, "\", expected cpu or cuda:N"));
  }
  const int threads = absl::GetFlag(FLAGS_threads);
  if (threads < 0) return Fail("--threads: expected an integer >= 0");
  const int64_t memory_limit_mb = absl::GetFlag(FLAGS_task_memory_limit_mb);
  if (memory_limit_mb < 0) return Fail("--task_memory_limit_mb: expected an integer >= 0");

  const std::string trainer =
      absl::GetFlag(FLAGS_trainer).empty() ? DefaultTrainerPath() : absl::GetFlag(FLAGS_trainer);
  if (access(trainer.c_str(), X_OK) != 0) {
    return Fail(absl::StrCat("--trainer: ", trainer, " is not an executable file"));
  }
  // A CUDA worker checks its GPU before it offers itself to the coordinator.
  DeviceInfo device_info{"cpu", 0};
  if (cuda) {
    absl::StatusOr<DeviceInfo> probed = ProbeDevice(trainer, device);
    if (!probed.ok()) return Fail(std::string(probed.status().message()));
    device_info = *probed;
  }

  // Peers of a gang reach rank 0's rendezvous at this address, so by default
  // it is the one this host reaches the coordinator from (loopback only when
  // the coordinator is on loopback).
  std::string collective = absl::GetFlag(FLAGS_collective_address);
  if (collective.empty()) {
    absl::StatusOr<std::string> host =
        simclr::LocalAddressToward(absl::GetFlag(FLAGS_coordinator));
    if (!host.ok()) {
      return Fail(absl::StrCat("--collective_address: not given, and no local address toward "
                               "--coordinator: ",
                               host.status().message(), "; pass --collective_address=HOST:PORT"));
    }
    absl::StatusOr<int> port = simclr::PickUnusedLoopbackPort();
    if (!port.ok()) return Fail(std::string(port.status().message()));
    collective = absl::StrCat(*host, ":", *port);
  }
  const std::string artifact_dir = absl::GetFlag(FLAGS_artifact_dir);
  if (!artifact_dir.empty() && (!std::filesystem::path(artifact_dir).is_absolute() ||
                                !std::filesystem::is_directory(artifact_dir, ec))) {
    return Fail(absl::StrCat("--artifact_dir: ", artifact_dir,
                             " is not an absolute path of a directory"));
  }

  auto registry = std::make_shared<prometheus::Registry>();
  simclr::worker::WorkerMetrics metrics(*registry, &simclr::Clock::Real());
  // "cuda" means the first GPU.
  const std::string device_index = cuda && device == "cuda" ? "cuda:0" : device;
  metrics.SetInfo(device_index, device_info.name);
  std::unique_ptr<simclr::MetricsHttpServer> metrics_server;
  const std::string metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  if (!metrics_listen.empty()) {
    auto server = simclr::MetricsHttpServer::Start(
        metrics_listen, {registry, simclr::ProcessCollectable(),
                         simclr::worker::WorkerMetrics::TrainerCollectable()});
    if (!server.ok()) return Fail(absl::StrCat("--metrics_listen: ", server.status().message()));
    metrics_server = *std::move(server);
  }

  std::unique_ptr<simclr::HealthServer> health_server;
  if (!absl::GetFlag(FLAGS_health_listen).empty()) {
    auto server = simclr::HealthServer::Start(absl::GetFlag(FLAGS_health_listen));
    if (!server.ok()) return Fail(absl::StrCat("--health_listen: ", server.status().message()));
    health_server = *std::move(server);
  }

  char hostname[256] = {0};
  gethostname(hostname, sizeof(hostname) - 1);
  simclr::worker::AgentOptions options;
  options.registration.set_hostname(hostname);
  options.registration.set_device_kind(cuda ? "cuda" : "cpu");
  options.registration.set_device_count(1);
  options.registration.set_memory_bytes(static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) *
                                        sysconf(_SC_PAGESIZE));
  options.registration.set_collective_address(collective);
  options.registration.set_name(absl::GetFlag(FLAGS_name));
  options.artifact_root = artifact_dir;
  options.observer = &metrics;

  options.registration.set_device_name(device_info.name);
  options.registration.set_device_memory_bytes(device_info.memory_bytes);

  simclr::worker::TrainerProcessRunnerOptions runner_options;
  runner_options.trainer_path = trainer;
  const std::string collective_host = collective.substr(0, collective.rfind(':'));
  runner_options.trainer_args = {
      absl::StrCat("--device=", device_index),
      absl::StrCat("--threads=", threads),
      absl::StrCat("--local_address=", collective_host),
      absl::StrCat("--data_roots=", absl::StrJoin(absl::GetFlag(FLAGS_data_roots), ",")),
  };
  runner_options.memory_limit_bytes = memory_limit_mb * (int64_t{1} << 20);
  runner_options.grace_period = absl::GetFlag(FLAGS_trainer_grace_period);
  runner_options.liveness_timeout = absl::GetFlag(FLAGS_trainer_liveness_timeout);
  simclr::worker::TrainerProcessRunner runner(runner_options, &metrics, &simclr::Clock::Real());

  auto credentials = simclr::MakeChannelCredentials(
      {absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key)},
      "--tls_");
  if (!credentials.ok()) return Fail(std::string(credentials.status().message()));
  auto connection = simclr::worker::MakeGrpcConnection(
      simclr::worker::MakeCoordinatorChannel(absl::GetFlag(FLAGS_coordinator), *credentials),
      absl::Seconds(10),
      absl::GetFlag(FLAGS_token_file));
  simclr::worker::Agent agent(options, connection.get(), &runner, &simclr::Clock::Real());

  simclr::NotifyOnShutdownSignal(&g_shutdown);
  std::printf("simclr-worker: device %s (%s), %d threads, trainer %s, rendezvous %s, "
              "coordinator %s, metrics %s\n",
              device.c_str(), device_info.name.c_str(), threads, trainer.c_str(), collective.c_str(),
              absl::GetFlag(FLAGS_coordinator).c_str(),
              metrics_listen.empty() ? "off" : metrics_listen.c_str());
  std::fflush(stdout);

  std::atomic<bool> agent_done{false};
  std::thread stopper([&] {
    while (!g_shutdown.WaitForNotificationWithTimeout(absl::Milliseconds(200))) {
      if (agent_done) return;  // the agent ended on its own
    }
    std::fprintf(stderr, "simclr-worker: shutting down\n");
    agent.Stop();
  });
  absl::Status status = agent.Run();
  agent_done = true;
  stopper.join();
  if (health_server) health_server->Shutdown();
  if (!status.ok()) {
    std::fprintf(stderr, "simclr-worker: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
