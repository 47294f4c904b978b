// simclr-coordinator: keeps jobs durably and schedules them onto workers.
//
//   simclr-coordinator --listen=0.0.0.0:50051 --metrics_listen=0.0.0.0:9090
//       --state_dir=/var/lib/simclr
//
// Serves simclr.v1.JobService (users) and simclr.v1.WorkerService (workers),
// the gRPC health-checking protocol and server reflection on --listen, and
// Prometheus metrics on --metrics_listen. SIGTERM/SIGINT shut it down cleanly;
// SIGKILL loses nothing acknowledged (see NOTE [job lifecycle]).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <prometheus/registry.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/metrics_http_server.h"
#include "common/shutdown_signal.h"
#include "coordinator/coordinator.h"
#include "coordinator/coordinator_metrics.h"
#include "coordinator/job_service.h"
#include "coordinator/rpc_metrics.h"
#include "coordinator/sqlite_job_store.h"
#include "coordinator/worker_service.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "host:port for the gRPC API");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9090",
          "host:port for Prometheus metrics (/metrics); empty disables");
ABSL_FLAG(std::string, state_dir, "", "directory for the job database (required)");
ABSL_FLAG(std::string, artifact_dir, "",
          "root of job artifact directories, seen by every worker (default <state_dir>/artifacts)");
ABSL_FLAG(std::vector<std::string>, data_roots, {"/usr/share/datasets"},
          "comma-separated directories that job specs may name data under (dataset "
          "paths, label index files); anything else is refused at submit");
ABSL_FLAG(int, max_world_size, 4096, "the largest world_size a job may ask for");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(2), "how often workers heartbeat");
ABSL_FLAG(int, missed_heartbeats, 3, "a worker is lost after this many missed heartbeats");
ABSL_FLAG(absl::Duration, collective_timeout, absl::Minutes(5),
          "bound on every collective of a gang; a dead peer becomes an error");

namespace {

absl::Notification g_shutdown;

int Fail(const std::string& message) {
  std::fprintf(stderr, "simclr-coordinator: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  simclr::BlockShutdownSignals();  // before any thread starts
  absl::SetProgramUsageMessage("Keeps SimCLRv2 jobs and schedules them onto workers.");
  absl::ParseCommandLine(argc, argv);
  using simclr::coordinator::Coordinator;

  const std::string state_dir = absl::GetFlag(FLAGS_state_dir);
  if (state_dir.empty()) return Fail("--state_dir: got nothing, expected a directory");
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return Fail(absl::StrCat("--state_dir: cannot create ", state_dir, ": ", ec.message()));
  if (absl::GetFlag(FLAGS_missed_heartbeats) < 1) {
    return Fail("--missed_heartbeats: expected an integer >= 1");
  }

  auto store = simclr::coordinator::SqliteJobStore::Open(state_dir + "/jobs.db");
  if (!store.ok()) return Fail(std::string(store.status().message()));

  auto registry = std::make_shared<prometheus::Registry>();
  simclr::coordinator::CoordinatorMetrics metrics(*registry, &simclr::Clock::Real());

  simclr::coordinator::CoordinatorOptions options;
  options.registry.heartbeat_interval = absl::GetFlag(FLAGS_heartbeat_interval);
  options.registry.missed_heartbeats = absl::GetFlag(FLAGS_missed_heartbeats);
  options.artifact_root = absl::GetFlag(FLAGS_artifact_dir).empty()
                              ? state_dir + "/artifacts"
                              : absl::GetFlag(FLAGS_artifact_dir);
  options.collective_timeout = absl::GetFlag(FLAGS_collective_timeout);
  options.spec_limits.data_roots = absl::GetFlag(FLAGS_data_roots);
  options.spec_limits.max_world_size = absl::GetFlag(FLAGS_max_world_size);
  auto coordinator =
      Coordinator::Create(options, store->get(), &simclr::Clock::Real(), &metrics);
  if (!coordinator.ok()) return Fail(std::string(coordinator.status().message()));
  metrics.Attach(coordinator->get());

  std::unique_ptr<simclr::MetricsHttpServer> metrics_server;
  const std::string metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  if (!metrics_listen.empty()) {
    auto server =
        simclr::MetricsHttpServer::Start(metrics_listen, {registry, metrics.StateCollectable()});
    if (!server.ok()) return Fail(absl::StrCat("--metrics_listen: ", server.status().message()));
    metrics_server = *std::move(server);
  }

  simclr::coordinator::JobServiceImpl job_service(coordinator->get());
  simclr::coordinator::WorkerServiceImpl worker_service(coordinator->get());
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials(),
                           &bound_port);
  builder.RegisterService(&job_service);
  builder.RegisterService(&worker_service);
  builder.experimental().SetInterceptorCreators(
      simclr::coordinator::MakeRpcMetricsInterceptors(metrics.rpc()));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound_port == 0) {
    return Fail(absl::StrCat("--listen: cannot listen on ", absl::GetFlag(FLAGS_listen)));
  }
  std::printf("simclr-coordinator: serving on %s (metrics %s), state in %s\n",
              absl::GetFlag(FLAGS_listen).c_str(),
              metrics_listen.empty() ? "off" : metrics_listen.c_str(), state_dir.c_str());
  std::fflush(stdout);

  simclr::NotifyOnShutdownSignal(&g_shutdown);

  // Leases expire and queued jobs start even when no RPC arrives.
  std::thread ticker([&] {
    const absl::Duration interval = options.registry.heartbeat_interval / 2;
    while (!g_shutdown.WaitForNotificationWithTimeout(interval)) {
      absl::Status s = (*coordinator)->Tick();
      if (!s.ok()) std::fprintf(stderr, "simclr-coordinator: tick: %s\n", s.ToString().c_str());
    }
  });

  g_shutdown.WaitForNotification();
  std::printf("simclr-coordinator: shutting down\n");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  ticker.join();
  return 0;
}
