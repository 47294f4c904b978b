#include "common/metrics_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <torch/types.h>

#include "gtest/gtest.h"

namespace simclr {
namespace {

// One HTTP exchange with the server on loopback.
std::string Get(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::send(fd, request.data(), request.size(), 0);
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) response.append(buffer, n);
  ::close(fd);
  return response;
}

// The process links LibTorch (as the worker does): the server must still
// start, which civetweb's small-stack threads could not.
TEST(MetricsHttpServerTest, ServesTheRegistryInAProcessThatLinksTorch) {
  EXPECT_EQ(torch::ones({2}).sum().item<float>(), 2.f);
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter().Name("demo_events_total").Help("Events.").Register(*registry)
      .Add({{"kind", "pretrain"}}).Increment(3);
  auto server = MetricsHttpServer::Start("127.0.0.1:0", {registry});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  const std::string response = Get((*server)->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(response.find("demo_events_total{kind=\"pretrain\"} 3"), std::string::npos) << response;
  EXPECT_NE(Get((*server)->port(), "GET /nope HTTP/1.1\r\n\r\n").find("404"), std::string::npos);
}

TEST(MetricsHttpServerTest, NamesAnAddressItCannotBind) {
  auto first = MetricsHttpServer::Start("127.0.0.1:0", {});
  ASSERT_TRUE(first.ok());
  const std::string taken = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = MetricsHttpServer::Start(taken, {});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(taken), std::string::npos);
  EXPECT_EQ(MetricsHttpServer::Start("nonsense", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace simclr
