#include "common/status_macros.h"

#include <string>

#include "gtest/gtest.h"

namespace simclr {
namespace {

int g_calls = 0;

absl::Status CountedStatus(absl::Status s) {
  ++g_calls;
  return s;
}

absl::StatusOr<std::string> Named(bool ok) {
  if (!ok) return absl::NotFoundError("no name");
  return std::string("w-1");
}

absl::Status UsesReturnIfError(absl::Status inner) {
  RETURN_IF_ERROR(CountedStatus(inner));
  return absl::InternalError("reached the end");
}

absl::StatusOr<size_t> UsesAssignOrReturn(bool ok) {
  ASSIGN_OR_RETURN(std::string name, Named(ok));
  return name.size();
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsTheErrorAndEvaluatesOnce) {
  g_calls = 0;
  absl::Status s = UsesReturnIfError(absl::InvalidArgumentError("bad"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "bad");
  EXPECT_EQ(g_calls, 1);
}

TEST(StatusMacrosTest, ReturnIfErrorContinuesOnOk) {
  EXPECT_EQ(UsesReturnIfError(absl::OkStatus()).code(), absl::StatusCode::kInternal);
}

TEST(StatusMacrosTest, AssignOrReturnMovesTheValueOrPropagates) {
  absl::StatusOr<size_t> ok = UsesAssignOrReturn(true);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3u);
  absl::StatusOr<size_t> bad = UsesAssignOrReturn(false);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace simclr
