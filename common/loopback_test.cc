#include "common/loopback.h"

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

}  // namespace
}  // namespace simclr
