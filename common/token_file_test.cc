#include "common/token_file.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace simclr {
namespace {

std::string Write(const std::string& name, const std::string& text) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path + ".new") << text;
  std::rename((path + ".new").c_str(), path.c_str());
  return path;
}

TEST(TokenFileTest, ReadsTheFirstLineAndFollowsARotation) {
  const std::string path = Write("t", "  first-token-0123456789 \n# ignored\n");
  TokenFile token(path);
  EXPECT_EQ(*token.AuthorizationHeader(), "Bearer first-token-0123456789");
  Write("t", "second-token-0123456789\n");
  EXPECT_EQ(*token.AuthorizationHeader(), "Bearer second-token-0123456789");
}

TEST(TokenFileTest, NoPathMeansNoHeader) { EXPECT_EQ(*TokenFile("").AuthorizationHeader(), ""); }

TEST(TokenFileTest, AMissingOrEmptyFileIsAnErrorNamingThePath) {
  auto missing = TokenFile("/nonexistent/token").AuthorizationHeader();
  EXPECT_TRUE(absl::IsFailedPrecondition(missing.status()));
  EXPECT_NE(missing.status().message().find("/nonexistent/token"), std::string::npos);
  auto empty = TokenFile(Write("e", "\n")).AuthorizationHeader();
  EXPECT_TRUE(absl::IsFailedPrecondition(empty.status()));
}

}  // namespace
}  // namespace simclr
