// simclr-coordinator: keeps jobs durably and schedules them onto workers.
//
//   simclr-coordinator --listen=0.0.0.0:50051 --metrics_listen=0.0.0.0:9090
//       --state_dir=/var/lib/simclr
//
// Serves simclr.v1.JobService (users) and simclr.v1.WorkerService (workers),
// the gRPC health-checking protocol and server reflection on --listen, the
// health-checking protocol alone on --health_listen (for probes), and
// Prometheus metrics on --metrics_listen. With --auth_tokens every RPC must
// carry a bearer token of the right role (docs/security.md); without, the
// API is open, which is allowed on a loopback --listen only unless
// --allow_insecure says otherwise. SIGTERM/SIGINT shut it down cleanly;
// SIGKILL loses nothing acknowledged (see NOTE [job lifecycle]).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <prometheus/registry.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/flags_usage.h"
#include "common/release_mutexes.h"
#include "common/clock.h"
#include "common/health_server.h"
#include "common/health_service.h"
#include "common/loopback.h"
#include "common/tls_credentials.h"
#include "common/metrics_http_server.h"
#include "common/process_metrics.h"
#include "common/shutdown_signal.h"
#include "coordinator/auth.h"
#include "coordinator/coordinator.h"
#include "coordinator/coordinator_metrics.h"
#include "coordinator/job_service.h"
#include "coordinator/rpc_metrics.h"
#include "coordinator/sqlite_job_store.h"
#include "coordinator/state_dir_lock.h"
#include "coordinator/worker_service.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "host:port for the gRPC API");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9090",
          "host:port for Prometheus metrics (/metrics); empty disables");
ABSL_FLAG(std::string, state_dir, "", "directory for the job database (required)");
ABSL_FLAG(std::string, artifact_dir, "",
          "root of job artifact directories, seen by every worker (default <state_dir>/artifacts)");
ABSL_FLAG(std::string, auth_tokens, "",
          "file of \"<token> <principal> <role>[,<role>]\" lines (roles: user, worker, admin); "
          "read again when it changes. Empty: no authentication (loopback only)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate of the API port (TLS); with --tls_key");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA: every client must present a certificate it signed (mutual TLS); the "
          "principal is the certificate's CN, its roles its O= values (user, worker, admin)");
ABSL_FLAG(bool, allow_insecure, false,
          "serve the API without authentication on a non-loopback --listen address");
ABSL_FLAG(std::string, health_listen, "",
          "host:port for a plaintext gRPC health-checking service (probes); empty disables");
ABSL_FLAG(std::vector<std::string>, data_roots, {"/usr/share/datasets"},
          "comma-separated directories that job specs may name data under (dataset "
          "paths, label index files); anything else is refused at submit");
ABSL_FLAG(int, max_world_size, 4096, "the largest world_size a job may ask for");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(2), "how often workers heartbeat");
ABSL_FLAG(int, missed_heartbeats, 3, "a worker is lost after this many missed heartbeats");
ABSL_FLAG(int, unhealthy_after_failures, 3,
          "a worker on whose side this many attempts failed in a row is unhealthy: placed "
          "last, shown by get workers, counted by simclr_coordinator_unhealthy_workers");
ABSL_FLAG(absl::Duration, job_retention, absl::ZeroDuration(),
          "delete finished jobs, their events and artifacts this long after they finish "
          "(e.g. 720h), unless a job that has not finished depends on them; 0 keeps them");
ABSL_FLAG(absl::Duration, collective_timeout, absl::Minutes(5),
          "bound on every collective of a gang; a dead peer becomes an error");

namespace {

absl::Notification g_shutdown;

int Fail(const std::string& message) {
  std::fprintf(stderr, "simclr-coordinator: %s\n", message.c_str());
  return 2;
}

// True for 127.0.0.1:P, localhost:P, [::1]:P.
bool IsLoopback(const std::string& listen) {
  return simclr::IsLoopbackHost(listen.substr(0, listen.rfind(':')));
}

}  // namespace

int main(int argc, char** argv) {
  simclr::UseReleaseMutexes();
  simclr::BlockShutdownSignals();  // before any thread starts
  simclr::SetFlagsUsage("Keeps SimCLRv2 jobs and schedules them onto workers.",
                        "coordinator/main.cc");
  absl::ParseCommandLine(argc, argv);
  using simclr::coordinator::Coordinator;

  const std::string state_dir = absl::GetFlag(FLAGS_state_dir);
  if (state_dir.empty()) return Fail("--state_dir: got nothing, expected a directory");
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return Fail(absl::StrCat("--state_dir: cannot create ", state_dir, ": ", ec.message()));
  if (absl::GetFlag(FLAGS_unhealthy_after_failures) < 1) {
    return Fail("--unhealthy_after_failures: expected an integer >= 1");
  }
  if (absl::GetFlag(FLAGS_missed_heartbeats) < 1) {
    return Fail("--missed_heartbeats: expected an integer >= 1");
  }

  // Before anything reads the store: one coordinator per state directory.
  auto lock = simclr::coordinator::StateDirLock::Acquire(state_dir);
  if (!lock.ok()) return Fail(std::string(lock.status().message()));

  auto store = simclr::coordinator::SqliteJobStore::Open(state_dir + "/jobs.db");
  if (!store.ok()) return Fail(std::string(store.status().message()));

  auto registry = std::make_shared<prometheus::Registry>();
  simclr::coordinator::CoordinatorMetrics metrics(*registry, &simclr::Clock::Real());

  simclr::coordinator::CoordinatorOptions options;
  options.registry.heartbeat_interval = absl::GetFlag(FLAGS_heartbeat_interval);
  options.registry.missed_heartbeats = absl::GetFlag(FLAGS_missed_heartbeats);
  options.registry.unhealthy_after_failures = absl::GetFlag(FLAGS_unhealthy_after_failures);
  options.artifact_root = absl::GetFlag(FLAGS_artifact_dir).empty()
                              ? state_dir + "/artifacts"
                              : absl::GetFlag(FLAGS_artifact_dir);
  options.collective_timeout = absl::GetFlag(FLAGS_collective_timeout);
  options.retention = absl::GetFlag(FLAGS_job_retention);
  options.spec_limits.data_roots = absl::GetFlag(FLAGS_data_roots);
  options.spec_limits.max_world_size = absl::GetFlag(FLAGS_max_world_size);
  auto coordinator =
      Coordinator::Create(options, store->get(), &simclr::Clock::Real(), &metrics);
  if (!coordinator.ok()) return Fail(std::string(coordinator.status().message()));
  metrics.Attach(coordinator->get());

  std::unique_ptr<simclr::MetricsHttpServer> metrics_server;
  const std::string metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  if (!metrics_listen.empty()) {
    auto server = simclr::MetricsHttpServer::Start(
        metrics_listen, {registry, metrics.StateCollectable(), simclr::ProcessCollectable()});
    if (!server.ok()) return Fail(absl::StrCat("--metrics_listen: ", server.status().message()));
    metrics_server = *std::move(server);
  }

  // Who may call: tokens, or nobody checks (loopback, or said so).
  std::unique_ptr<simclr::coordinator::Authenticator> auth;
  const std::string listen = absl::GetFlag(FLAGS_listen);
  const simclr::ServerTlsFiles tls{absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                                   absl::GetFlag(FLAGS_tls_client_ca)};
  auto credentials = simclr::MakeServerCredentials(tls, "--tls_");
  if (!credentials.ok()) return Fail(std::string(credentials.status().message()));
  if (!absl::GetFlag(FLAGS_auth_tokens).empty()) {
    auto created = simclr::coordinator::Authenticator::Create(absl::GetFlag(FLAGS_auth_tokens));
    if (!created.ok()) return Fail(absl::StrCat("--auth_tokens: ", created.status().message()));
    auth = *std::move(created);
  } else if (!tls.client_ca.empty()) {
    auth = simclr::coordinator::Authenticator::CertificatesOnly();
  } else if (!IsLoopback(listen) && !absl::GetFlag(FLAGS_allow_insecure)) {
    return Fail(absl::StrCat("--listen=", listen,
                             " is not a loopback address: give --auth_tokens or "
                             "--tls_client_ca (see docs/security.md), or --allow_insecure on a "
                             "trusted network"));
  }

  std::unique_ptr<simclr::HealthServer> health_server;
  if (!absl::GetFlag(FLAGS_health_listen).empty()) {
    auto started = simclr::HealthServer::Start(absl::GetFlag(FLAGS_health_listen));
    if (!started.ok()) return Fail(absl::StrCat("--health_listen: ", started.status().message()));
    health_server = *std::move(started);
  }

  simclr::coordinator::JobServiceImpl job_service(coordinator->get(), absl::Seconds(1),
                                                  auth.get());
  simclr::coordinator::WorkerServiceImpl worker_service(coordinator->get(), auth.get());
  // Not gRPC's default health service: why in common/health_service.h.
  simclr::HealthService health({"simclr.v1.JobService", "simclr.v1.WorkerService"});
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(listen, *credentials, &bound_port);
  // Set on purpose: a job file is kilobytes; nothing legitimate comes near.
  builder.SetMaxReceiveMessageSize(4 << 20);
  builder.RegisterService(&job_service);
  builder.RegisterService(&worker_service);
  builder.RegisterService(&health);
  builder.experimental().SetInterceptorCreators(
      simclr::coordinator::MakeRpcMetricsInterceptors(metrics.rpc()));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound_port == 0) {
    return Fail(absl::StrCat("--listen: cannot listen on ", absl::GetFlag(FLAGS_listen)));
  }
  const std::string security =
      absl::StrCat(tls.cert.empty() ? "plaintext" : tls.client_ca.empty() ? "TLS" : "mutual TLS",
                   ", ", auth ? "authenticated" : "no authentication");
  std::printf("simclr-coordinator: serving on %s (%s; metrics %s), state in %s\n",
              listen.c_str(), security.c_str(),
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
  // Probes see the coordinator go first: NOT_SERVING on --listen (watches
  // learn it and end), the --health_listen port closed.
  health.Shutdown();
  if (health_server) health_server->Shutdown();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  ticker.join();
  return 0;
}
