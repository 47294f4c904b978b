// Serves Prometheus metrics over HTTP: GET /metrics returns the text
// exposition format of the registered collectables.
//
// Why not prometheus-cpp's Exposer: its web server (civetweb, as Debian builds
// it) starts threads with a small fixed stack, and in a process that links
// LibTorch, whose static thread-local storage is large, pthread_create then
// fails ("Cannot create threads"). This server uses one ordinary thread and
// serves both daemons the same way.
#ifndef SIMCLR_COMMON_METRICS_HTTP_SERVER_H_
#define SIMCLR_COMMON_METRICS_HTTP_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/collectable.h>

#include "absl/status/statusor.h"

namespace simclr {

// Thread-safe to destroy from any thread. Requests are served one at a time,
// each with a 5 s socket timeout, which suits scrapes; it is not a general
// web server.
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

  int port() const { return port_; }

  // The exposition text of every collectable, as GET /metrics returns it.
  std::string Scrape() const;

 private:
  MetricsHttpServer(int fd, int port,
                    std::vector<std::shared_ptr<prometheus::Collectable>> collectables);
  void Serve();
  void Answer(int connection) const;

  const int listen_fd_;
  const int port_;
  const std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace simclr

#endif  // SIMCLR_COMMON_METRICS_HTTP_SERVER_H_
