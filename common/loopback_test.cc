#include "common/loopback.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string>

#include "gtest/gtest.h"

namespace simclr {
namespace {

TEST(LoopbackTest, PicksAPortInRange) {
  auto port = PickUnusedLoopbackPort();
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_GT(*port, 0);
  EXPECT_LE(*port, 65535);
}

TEST(LoopbackTest, TellsLoopbackHostsFromOthers) {
  for (const char* host : {"localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "", "10.0.0.1", "[::]", "localhost.example.com", "1127.0.0.1"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(LoopbackTest, LocalAddressTowardALoopbackPeerIsLoopback) {
  EXPECT_EQ(*LocalAddressToward("127.0.0.1:50051"), "127.0.0.1");
  const auto localhost = LocalAddressToward("localhost:50051");
  ASSERT_TRUE(localhost.ok()) << localhost.status();
  EXPECT_TRUE(IsLoopbackHost(*localhost)) << *localhost;
}

// Toward one of this machine's own non-loopback addresses, the route leaves
// from that address: what a worker advertises for its gang's rendezvous when
// the coordinator is on another host.
TEST(LoopbackTest, LocalAddressTowardAnotherInterfaceIsThatInterface) {
  ifaddrs* interfaces = nullptr;
  ASSERT_EQ(getifaddrs(&interfaces), 0);
  std::string own;
  for (ifaddrs* i = interfaces; i != nullptr && own.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN] = {0};
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof(text));
    if (!IsLoopbackHost(text)) own = text;
  }
  freeifaddrs(interfaces);
  if (own.empty()) GTEST_SKIP() << "this machine has no non-loopback IPv4 address";
  EXPECT_EQ(*LocalAddressToward(own + ":50051"), own);
}

TEST(LoopbackTest, LocalAddressTowardBadPeersNamesTheProblem) {
  EXPECT_TRUE(absl::IsInvalidArgument(LocalAddressToward("no-port").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(LocalAddressToward("host:").status()));
  const auto unresolved = LocalAddressToward("no-such-host.invalid:50051");
  EXPECT_TRUE(absl::IsUnavailable(unresolved.status()));
  EXPECT_NE(unresolved.status().message().find("no-such-host.invalid"), std::string::npos);
}

}  // namespace
}  // namespace simclr
