// Serves Prometheus metrics over HTTP: GET /metrics returns the text
// exposition format of the registered collectables.
//
// Why not prometheus-cpp's Exposer: its web server (civetweb, as Debian builds
// it) starts threads with a small fixed stack, and in a process that links
// LibTorch, whose static thread-local storage is large, pthread_create then
// fails ("Cannot create threads"). This server uses ordinary threads and
// serves both daemons the same way.
#ifndef SIMCLR_COMMON_METRICS_HTTP_SERVER_H_
#define SIMCLR_COMMON_METRICS_HTTP_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/collectable.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace simclr {

// Thread-safe to destroy from any thread. Each connection is served on a
// thread of its own, at most kMaxConnections at once (more are closed at
// once), and must deliver its request line and headers (at most
// kMaxRequestBytes) within kRequestDeadline: a client that sends one byte
// every few seconds is cut off and never delays a scrape. It serves scrapes;
// it is not a general web server.
//
//   ASSIGN_OR_RETURN(auto server, MetricsHttpServer::Start("0.0.0.0:9090", {registry}));
class MetricsHttpServer {
 public:
  // Binds `host_port` ("127.0.0.1:0" picks a free port). InvalidArgument for
  // a malformed address, Unavailable (naming it) when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& host_port,
      std::vector<std::shared_ptr<prometheus::Collectable>> collectables);

  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  static constexpr int kMaxConnections = 16;
  static constexpr size_t kMaxRequestBytes = 8192;
  static constexpr absl::Duration kRequestDeadline = absl::Seconds(2);

  int port() const { return port_; }

  // The exposition text of every collectable, as GET /metrics returns it.
  std::string Scrape() const;

 private:
  MetricsHttpServer(int fd, int port,
                    std::vector<std::shared_ptr<prometheus::Collectable>> collectables);
  void Serve();
  // Reads one request (bounded in size and time), answers it, closes.
  void Handle(int connection);
  void Answer(int connection, const std::string& request) const;

  const int listen_fd_;
  const int port_;
  const std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  absl::Mutex mu_;
  int active_ ABSL_GUARDED_BY(mu_) = 0;  // connections being handled
};

}  // namespace simclr

#endif  // SIMCLR_COMMON_METRICS_HTTP_SERVER_H_
