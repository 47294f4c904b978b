#include "model/nn/autocast_scope.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace simclr::model {
namespace {

// A matmul is one of the ops autocast lowers to bfloat16.
torch::ScalarType MatmulType() {
  const torch::Tensor a = torch::ones({4, 4});
  return torch::matmul(a, a).scalar_type();
}

TEST(AutocastScopeTest, LowersToBfloat16OnlyWithinTheScope) {
  ASSERT_EQ(MatmulType(), torch::kFloat);
  {
    AutocastScope autocast(/*enabled=*/true, torch::kCPU);
    EXPECT_EQ(MatmulType(), torch::kBFloat16);
  }
  EXPECT_EQ(MatmulType(), torch::kFloat);
}

TEST(AutocastScopeTest, DisabledIsANoOp) {
  AutocastScope autocast(/*enabled=*/false, torch::kCPU);
  EXPECT_EQ(MatmulType(), torch::kFloat);
}

TEST(AutocastScopeTest, NestedDisabledScopeLeavesTheOuterOneOn) {
  AutocastScope outer(/*enabled=*/true, torch::kCPU);
  { AutocastScope inner(/*enabled=*/false, torch::kCPU); }
  EXPECT_EQ(MatmulType(), torch::kBFloat16);
}

// Leaving an inner enabled scope restores the outer one's state; only the
// outermost exit turns autocast off.
TEST(AutocastScopeTest, NestedEnabledScopeLeavesTheOuterOneOn) {
  {
    AutocastScope outer(/*enabled=*/true, torch::kCPU);
    { AutocastScope inner(/*enabled=*/true, torch::kCPU); }
    EXPECT_EQ(MatmulType(), torch::kBFloat16);
  }
  EXPECT_EQ(MatmulType(), torch::kFloat);
}

}  // namespace
}  // namespace simclr::model
