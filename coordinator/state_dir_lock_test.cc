#include "coordinator/state_dir_lock.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simclr::coordinator {
namespace {

using ::testing::HasSubstr;

TEST(StateDirLockTest, ASecondCoordinatorIsRefusedNamingTheHolder) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  auto first = StateDirLock::Acquire(dir);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = StateDirLock::Acquire(dir);
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr(absl::StrCat("state_dir ", dir, " is in use by another coordinator (pid ",
                                     ::getpid(), ")")));
  first->reset();  // the holder ends: the directory is free again
  EXPECT_TRUE(StateDirLock::Acquire(dir).ok());
}

}  // namespace
}  // namespace simclr::coordinator
