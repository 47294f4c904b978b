#include "coordinator/auth.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simclr::coordinator {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAlice[] = "alice-token-0123456789";
constexpr char kPool[] = "worker-token-0123456789";
constexpr char kOps[] = "ops-token-0123456789abc";

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::string(std::getenv("TEST_TMPDIR")) + "/" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".tokens";
    Write(std::string("# who may call\n") + kAlice + " alice user\n" + kPool +
          " pool worker   # all workers\n\n" + kOps + " ops admin,user\n");
    auto auth = Authenticator::Create(path_);
    ASSERT_TRUE(auth.ok()) << auth.status();
    auth_ = *std::move(auth);
  }

  void Write(const std::string& text) {
    // A new file renamed over the old one, as an operator's rotation would:
    // its modification time and inode change even within one second.
    const std::string tmp = path_ + ".new";
    std::ofstream(tmp) << text;
    ASSERT_EQ(std::rename(tmp.c_str(), path_.c_str()), 0);
  }

  absl::StatusOr<Principal> As(const std::string& token, Role role) {
    return auth_->Authorize("Bearer " + token, role);
  }

  std::string path_;
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthTest, EachRoleReachesItsOwnApiOnly) {
  EXPECT_EQ(As(kAlice, Role::kUser)->name, "alice");
  EXPECT_EQ(As(kPool, Role::kWorker)->name, "pool");
  absl::Status user_as_worker = As(kAlice, Role::kWorker).status();
  EXPECT_TRUE(absl::IsPermissionDenied(user_as_worker)) << user_as_worker;
  EXPECT_THAT(std::string(user_as_worker.message()), HasSubstr("may not use the worker API"));
  EXPECT_TRUE(absl::IsPermissionDenied(As(kPool, Role::kUser).status()));
  // An admin has every user right, and no worker right.
  EXPECT_TRUE(As(kOps, Role::kUser).ok());
  EXPECT_TRUE(As(kOps, Role::kAdmin).ok());
  EXPECT_TRUE(absl::IsPermissionDenied(As(kOps, Role::kWorker).status()));
  EXPECT_TRUE(absl::IsPermissionDenied(As(kAlice, Role::kAdmin).status()));
}

TEST_F(AuthTest, MissingMalformedAndUnknownCredentialsAreUnauthenticated) {
  for (const std::string header : {std::string(""), std::string("Bearer "),
                                   std::string("Basic ") + kAlice, std::string(kAlice),
                                   std::string("Bearer alice-token-0123456788"),
                                   std::string("Bearer ") + kAlice + "x"}) {
    absl::Status s = auth_->Authorize(header, Role::kUser).status();
    EXPECT_TRUE(absl::IsUnauthenticated(s)) << header << ": " << s;
    // No token ever appears in an error.
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr("0123456789")));
  }
}

TEST_F(AuthTest, ARotatedFileTakesEffectWithoutARestart) {
  const std::string fresh = "alice-token-rotated-000";
  Write(fresh + " alice user\n" + kPool + " pool worker\n");
  EXPECT_TRUE(absl::IsUnauthenticated(As(kAlice, Role::kUser).status()));  // revoked
  EXPECT_EQ(As(fresh, Role::kUser)->name, "alice");
  // A broken rewrite keeps the last good table rather than locking everyone out.
  Write("this line is not a credential\n");
  EXPECT_EQ(As(fresh, Role::kUser)->name, "alice");
}

TEST(AuthFileTest, MalformedFilesNameTheLineNotItsSecret) {
  auto bad_role = ParseTokens("secret-token-0123456789 bob superuser\n", "t");
  EXPECT_THAT(std::string(bad_role.status().message()),
              HasSubstr("t:1: role \"superuser\", expected user, worker or admin"));
  auto short_token = ParseTokens("\nshort bob user\n", "t");
  EXPECT_THAT(std::string(short_token.status().message()),
              HasSubstr("t:2: a token must have at least 16 characters"));
  auto fields = ParseTokens("secret-token-0123456789 bob\n", "t");
  EXPECT_THAT(std::string(fields.status().message()), HasSubstr("t:1: expected"));
  EXPECT_THAT(std::string(fields.status().message()), Not(HasSubstr("secret")));
  EXPECT_TRUE(absl::IsFailedPrecondition(ParseTokens("# empty\n", "t").status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(Authenticator::Create("/nonexistent").status()));
}

TEST(AuthFileTest, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(AuthFileTest, AllowAllIsInsecureModeWithEveryRole) {
  auto auth = Authenticator::AllowAll();
  auto p = auth->Authorize("", Role::kWorker);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->name, "");
  EXPECT_TRUE(p->Has(Role::kAdmin));
}

}  // namespace
}  // namespace simclr::coordinator
