#include "common/metrics_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <torch/types.h>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace simclr {
namespace {

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

// One HTTP exchange with the server on loopback.
std::string Get(int port, const std::string& request) {
  const int fd = Connect(port);
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

// A client that trickles its request one byte at a time (a "slow loris")
// must neither delay a scrape nor keep its connection: the scrape is answered
// while the slow client is still sending, and the server then cuts it off.
TEST(MetricsHttpServerTest, ASlowClientNeitherBlocksScrapesNorKeepsItsConnection) {
  auto server = MetricsHttpServer::Start("127.0.0.1:0", {});
  ASSERT_TRUE(server.ok());
  const int port = (*server)->port();
  const int slow = Connect(port);
  std::atomic<bool> slow_done{false};
  std::atomic<bool> cut_off{false};
  std::thread trickle([&] {
    const std::string request = "GET /metrics HTTP/1.1\r\nX-Padding: " + std::string(200, 'x');
    for (char c : request) {
      if (::send(slow, &c, 1, MSG_NOSIGNAL) != 1) {
        cut_off = true;
        break;
      }
      absl::SleepFor(absl::Milliseconds(100));  // 20 s in all, unless cut off
    }
    slow_done = true;
  });
  const std::string scraped = Get(port, "GET /metrics HTTP/1.1\r\n\r\n");
  const bool slow_still_sending = !slow_done;
  EXPECT_EQ(scraped.rfind("HTTP/1.1 200 OK", 0), 0u) << scraped;
  EXPECT_TRUE(slow_still_sending);
  trickle.join();
  EXPECT_TRUE(cut_off);
  ::close(slow);
}

TEST(MetricsHttpServerTest, OversizedHeadersAreRefused) {
  auto server = MetricsHttpServer::Start("127.0.0.1:0", {});
  ASSERT_TRUE(server.ok());
  const std::string response = Get(
      (*server)->port(), "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'x') + "\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 431", 0), 0u) << response.substr(0, 100);
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
