#include "common/metrics_http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <utility>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace simclr {
namespace {

void SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

std::string Response(const char* status, const char* type, const std::string& body) {
  return absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", type,
                      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& host_port, std::vector<std::shared_ptr<prometheus::Collectable>> collectables) {
  const size_t colon = host_port.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(host_port.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address: got \"", host_port, "\", expected host:port"));
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("metrics address: cannot resolve \"", host, "\""));
  }
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const bool bound = fd >= 0 && ::bind(fd, found->ai_addr, found->ai_addrlen) == 0 &&
                     ::listen(fd, 16) == 0;
  freeaddrinfo(found);
  if (!bound) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", host_port, ": ", why));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int bound_port = ntohs(addr.ss_family == AF_INET6
                                   ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                   : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  std::unique_ptr<MetricsHttpServer> server(
      new MetricsHttpServer(fd, bound_port, std::move(collectables)));
  server->thread_ = std::thread(&MetricsHttpServer::Serve, server.get());
  return server;
}

MetricsHttpServer::MetricsHttpServer(int fd, int port,
                                     std::vector<std::shared_ptr<prometheus::Collectable>> collectables)
    : listen_fd_(fd), port_(port), collectables_(std::move(collectables)) {}

MetricsHttpServer::~MetricsHttpServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  // Handlers end within the request deadline plus the send timeout.
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return active_ == 0; };
  mu_.Await(absl::Condition(&idle));
}

std::string MetricsHttpServer::Scrape() const {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& c : collectables_) {
    std::vector<prometheus::MetricFamily> more = c->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

void MetricsHttpServer::Serve() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 500) <= 0) continue;
    const int connection = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) continue;
    {
      absl::MutexLock lock(&mu_);
      if (active_ >= kMaxConnections) {
        ::close(connection);  // full: the client retries, a scrape is cheap
        continue;
      }
      ++active_;
    }
    std::thread(&MetricsHttpServer::Handle, this, connection).detach();
  }
}

void MetricsHttpServer::Handle(int connection) {
  timeval send_timeout{5, 0};
  setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
  // The whole request within the deadline, however slowly it trickles in.
  const absl::Time deadline = absl::Now() + kRequestDeadline;
  std::string request;
  char buffer[2048];
  bool complete = false;
  while (!complete && request.size() < kMaxRequestBytes) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    pollfd p{connection, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    const ssize_t n = ::recv(connection, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    request.append(buffer, static_cast<size_t>(n));
    complete = request.find("\r\n\r\n") != std::string::npos;
  }
  if (complete) {
    Answer(connection, request);
  } else if (request.size() >= kMaxRequestBytes) {
    SendAll(connection, Response("431 Request Header Fields Too Large",
                                 "text/plain; charset=utf-8", "request too large\n"));
  }
  ::close(connection);
  absl::MutexLock lock(&mu_);
  --active_;
}

void MetricsHttpServer::Answer(int connection, const std::string& request) const {
  const size_t line_end = request.find("\r\n");
  const std::string line = request.substr(0, line_end);
  if (line.rfind("GET /metrics ", 0) == 0 || line.rfind("GET /metrics?", 0) == 0) {
    SendAll(connection, Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", Scrape()));
  } else if (line.rfind("GET / ", 0) == 0) {
    SendAll(connection, Response("200 OK", "text/plain; charset=utf-8", "metrics at /metrics\n"));
  } else if (line.rfind("GET ", 0) == 0) {
    SendAll(connection, Response("404 Not Found", "text/plain; charset=utf-8", "not found\n"));
  } else {
    SendAll(connection, Response("405 Method Not Allowed", "text/plain; charset=utf-8", "GET only\n"));
  }
}

}  // namespace simclr
