#include "model/optim/lars.h"

#include <cmath>
#include <vector>

#include <torch/nn/module.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace simclr::model {
namespace {

using Vec = std::vector<double>;

torch::Tensor MakeParam(const Vec& values, std::vector<int64_t> shape) {
  torch::Tensor t = torch::tensor(values, torch::kFloat64).reshape(shape);
  t.set_requires_grad(true);
  return t;
}

void SetGrad(torch::Tensor& param, const Vec& values) {
  param.mutable_grad() =
      torch::tensor(values, torch::kFloat64).reshape(param.sizes());
}

Vec Values(const torch::Tensor& t) {
  torch::Tensor c = t.detach().contiguous();
  return Vec(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

double Norm(const Vec& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

// Independent float64 recomputation of NOTE [LARS update] for one tensor.
void ReferenceLarsStep(Vec& w, Vec& v, Vec g, double lr, bool excluded,
                       double momentum, double eta, double wd) {
  double trust = 1.0;
  if (!excluded) {
    for (size_t i = 0; i < g.size(); ++i) g[i] += wd * w[i];
    const double wn = Norm(w), gn = Norm(g);
    if (wn > 0 && gn > 0) trust = eta * wn / gn;
  }
  for (size_t i = 0; i < w.size(); ++i) {
    v[i] = momentum * v[i] + trust * lr * g[i];
    w[i] -= v[i];
  }
}

void ExpectNear(const Vec& actual, const Vec& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], 1e-15 + 1e-13 * std::abs(expected[i]))
        << "index " << i;
  }
}

TEST(LarsTest, TwoStepsMatchHandComputedRuleWithExclusionFlags) {
  const double momentum = 0.9, eta = 0.001, wd = 0.1;
  Vec w = {0.5, -1.0, 2.0, 0.25, -0.75, 1.5};
  Vec b = {0.3, -0.2, 0.1};
  torch::Tensor weight = MakeParam(w, {2, 3});
  torch::Tensor bias = MakeParam(b, {3});
  std::vector<ParamGroup> groups(2);
  groups[0].names = {"weight"};
  groups[0].params = {weight};
  groups[1].names = {"bias"};
  groups[1].params = {bias};
  groups[1].exclude_from_adaptation = true;
  auto lars = Lars::Create(groups, {momentum, eta, wd});
  ASSERT_TRUE(lars.ok()) << lars.status();

  Vec vw(6, 0.0), vb(3, 0.0);
  const Vec gw1 = {0.1, 0.2, -0.3, 0.05, 0.0, -0.4};
  const Vec gb1 = {1.0, -2.0, 0.5};
  const Vec gw2 = {-0.2, 0.1, 0.3, 0.6, -0.1, 0.2};
  const Vec gb2 = {0.25, 0.5, -1.0};

  SetGrad(weight, gw1);
  SetGrad(bias, gb1);
  ASSERT_TRUE((*lars)->Step(2.0).ok());
  ReferenceLarsStep(w, vw, gw1, 2.0, false, momentum, eta, wd);
  ReferenceLarsStep(b, vb, gb1, 2.0, true, momentum, eta, wd);
  ExpectNear(Values(weight), w);
  ExpectNear(Values(bias), b);

  SetGrad(weight, gw2);
  SetGrad(bias, gb2);
  ASSERT_TRUE((*lars)->Step(1.5).ok());
  ReferenceLarsStep(w, vw, gw2, 1.5, false, momentum, eta, wd);
  ReferenceLarsStep(b, vb, gb2, 1.5, true, momentum, eta, wd);
  ExpectNear(Values(weight), w);
  ExpectNear(Values(bias), b);

  // The excluded bias moved by plain momentum SGD: lr * g dominates, far more
  // than the trust-scaled weight (sanity check that the flag mattered).
  EXPECT_GT(std::abs(b[0] - 0.3), 1.0);
  EXPECT_LT(std::abs(w[0] - 0.5), 0.1);
}

TEST(LarsTest, ZeroWeightUsesTrustOne) {
  torch::Tensor weight = MakeParam({0.0, 0.0, 0.0, 0.0}, {2, 2});
  std::vector<ParamGroup> groups(1);
  groups[0].params = {weight};
  auto lars = Lars::Create(groups, {0.9, 0.001, 0.5});
  ASSERT_TRUE(lars.ok());
  SetGrad(weight, {1.0, 2.0, 3.0, 4.0});
  ASSERT_TRUE((*lars)->Step(0.1).ok());
  // Weight decay adds nothing at w = 0; trust 1: w = -lr * g.
  ExpectNear(Values(weight), {-0.1, -0.2, -0.3, -0.4});
}

TEST(LarsTest, ParamsWithoutGradAreLeftAlone) {
  torch::Tensor weight = MakeParam({1.0, 2.0}, {1, 2});
  std::vector<ParamGroup> groups(1);
  groups[0].params = {weight};
  auto lars = Lars::Create(groups, {});
  ASSERT_TRUE(lars.ok());
  ASSERT_TRUE((*lars)->Step(1.0).ok());
  ExpectNear(Values(weight), {1.0, 2.0});
}

TEST(LarsTest, SavedMomentumResumesIdentically) {
  const Vec w0 = {0.5, -1.0, 2.0, 0.25};
  const Vec g1 = {0.1, 0.2, -0.3, 0.05};
  const Vec g2 = {-0.2, 0.4, 0.1, 0.3};
  torch::Tensor a = MakeParam(w0, {2, 2});
  std::vector<ParamGroup> groups_a(1);
  groups_a[0].names = {"conv.weight"};
  groups_a[0].params = {a};
  auto lars_a = Lars::Create(groups_a, {0.9, 0.001, 0.01});
  ASSERT_TRUE(lars_a.ok());
  SetGrad(a, g1);
  ASSERT_TRUE((*lars_a)->Step(1.0).ok());
  OptimizerState state = (*lars_a)->StateDict();
  ASSERT_EQ(state.count("momentum/conv.weight"), 1u);
  EXPECT_GT(state["momentum/conv.weight"].abs().sum().item<double>(), 0.0);

  // A fresh optimizer over a copy of the weights, restored from the state.
  torch::Tensor b = MakeParam(Values(a), {2, 2});
  std::vector<ParamGroup> groups_b(1);
  groups_b[0].names = {"conv.weight"};
  groups_b[0].params = {b};
  auto lars_b = Lars::Create(groups_b, {0.9, 0.001, 0.01});
  ASSERT_TRUE(lars_b.ok());
  ASSERT_TRUE((*lars_b)->LoadStateDict(state).ok());

  SetGrad(a, g2);
  SetGrad(b, g2);
  ASSERT_TRUE((*lars_a)->Step(0.5).ok());
  ASSERT_TRUE((*lars_b)->Step(0.5).ok());
  EXPECT_EQ(Values(a), Values(b));
}

TEST(LarsTest, LoadStateRejectsMissingWrongShapeAndUnknownTensors) {
  torch::Tensor a = MakeParam({1, 2, 3, 4}, {2, 2});
  std::vector<ParamGroup> groups(1);
  groups[0].names = {"w"};
  groups[0].params = {a};
  auto lars = Lars::Create(groups, {});
  ASSERT_TRUE(lars.ok());

  absl::Status missing = (*lars)->LoadStateDict({});
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.message().find("momentum/w"), std::string::npos);

  absl::Status shape = (*lars)->LoadStateDict(
      {{"momentum/w", torch::ones({3}, torch::kFloat64)}});
  EXPECT_EQ(shape.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(shape.message().find("[3]"), std::string::npos);

  absl::Status unknown = (*lars)->LoadStateDict(
      {{"momentum/w", torch::ones({2, 2}, torch::kFloat64)},
       {"momentum/other", torch::ones({1}, torch::kFloat64)}});
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("momentum/other"), std::string::npos);
  // Nothing was loaded by the failed calls.
  EXPECT_EQ((*lars)->StateDict()["momentum/w"].abs().sum().item<double>(), 0.0);
}

TEST(LarsTest, RejectsBadOptionsAndDuplicateNames) {
  torch::Tensor a = MakeParam({1, 2}, {1, 2});
  std::vector<ParamGroup> groups(2);
  groups[0].names = {"w"};
  groups[0].params = {a};
  groups[1].names = {"w"};
  groups[1].params = {a};
  auto dup = Lars::Create(groups, {});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("\"w\" appears twice"), std::string::npos);

  groups.pop_back();
  EXPECT_FALSE(Lars::Create(groups, {1.0, 0.001, 0.0}).ok());   // momentum
  EXPECT_FALSE(Lars::Create(groups, {0.9, -1.0, 0.0}).ok());    // eta
  EXPECT_FALSE(Lars::Create(groups, {0.9, 0.001, -1.0}).ok());  // weight_decay
  auto lars = Lars::Create(groups, {});
  ASSERT_TRUE(lars.ok());
  EXPECT_EQ((*lars)->Step(-1.0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*lars)->Step(NAN).code(), absl::StatusCode::kInvalidArgument);
}

TEST(LarsTest, ZeroGradZeroesGradients) {
  torch::Tensor a = MakeParam({1, 2}, {1, 2});
  std::vector<ParamGroup> groups(1);
  groups[0].params = {a};
  auto lars = Lars::Create(groups, {});
  ASSERT_TRUE(lars.ok());
  SetGrad(a, {3.0, 4.0});
  (*lars)->ZeroGrad();
  ExpectNear(Values(a.grad()), {0.0, 0.0});
}

TEST(MomentumSgdTest, TwoStepsMatchHandComputedRule) {
  const double momentum = 0.9, wd = 0.01;
  Vec w = {1.0, -2.0};
  Vec b = {0.5};
  torch::Tensor weight = MakeParam(w, {1, 2});
  torch::Tensor bias = MakeParam(b, {1});
  std::vector<ParamGroup> groups(2);
  groups[0].params = {weight};
  groups[1].params = {bias};
  groups[1].exclude_from_adaptation = true;
  auto sgd = MomentumSgd::Create(groups, {momentum, wd});
  ASSERT_TRUE(sgd.ok()) << sgd.status();
  Vec vw(2, 0.0), vb(1, 0.0);
  const std::vector<std::pair<Vec, Vec>> grads = {{{0.3, -0.1}, {2.0}},
                                                  {{-0.5, 0.2}, {-1.0}}};
  const double lrs[] = {0.1, 0.05};
  for (int step = 0; step < 2; ++step) {
    SetGrad(weight, grads[step].first);
    SetGrad(bias, grads[step].second);
    ASSERT_TRUE((*sgd)->Step(lrs[step]).ok());
    for (size_t i = 0; i < w.size(); ++i) {
      vw[i] = momentum * vw[i] + lrs[step] * (grads[step].first[i] + wd * w[i]);
      w[i] -= vw[i];
    }
    vb[0] = momentum * vb[0] + lrs[step] * grads[step].second[0];
    b[0] -= vb[0];
  }
  ExpectNear(Values(weight), w);
  ExpectNear(Values(bias), b);
}

// At a constant rate the Nesterov step is LibTorch's own SGD(nesterov=true):
// v_ours = lr * buf_torch.
TEST(MomentumSgdTest, NesterovMatchesLibTorchsSgdAtAConstantRate) {
  torch::manual_seed(4);
  const torch::Tensor start = torch::randn({3, 4}, torch::kFloat64);
  torch::Tensor ours = start.clone().requires_grad_(true);
  torch::Tensor theirs = start.clone().requires_grad_(true);
  std::vector<ParamGroup> groups(1);
  groups[0].params = {ours};
  MomentumSgdOptions options;
  options.momentum = 0.9;
  options.weight_decay = 0.01;
  options.nesterov = true;
  auto sgd = MomentumSgd::Create(groups, options);
  ASSERT_TRUE(sgd.ok()) << sgd.status();
  torch::optim::SGD reference(
      {theirs}, torch::optim::SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(0.01));
  for (int step = 0; step < 5; ++step) {
    const torch::Tensor grad = torch::randn({3, 4}, torch::kFloat64);
    ours.mutable_grad() = grad.clone();
    theirs.mutable_grad() = grad.clone();
    ASSERT_TRUE((*sgd)->Step(0.1).ok());
    reference.step();
    EXPECT_LT((ours - theirs).abs().max().item<double>(), 1e-12) << "step " << step;
  }
  // And it is not plain momentum: the trajectories part.
  torch::Tensor plain = start.clone().requires_grad_(true);
  std::vector<ParamGroup> plain_groups(1);
  plain_groups[0].params = {plain};
  auto momentum = MomentumSgd::Create(plain_groups, {0.9, 0.01});
  torch::manual_seed(4);
  torch::randn({3, 4}, torch::kFloat64);
  for (int step = 0; step < 5; ++step) {
    plain.mutable_grad() = torch::randn({3, 4}, torch::kFloat64);
    ASSERT_TRUE((*momentum)->Step(0.1).ok());
  }
  EXPECT_GT((plain - ours).abs().max().item<double>(), 1e-3);
}

struct TinyNorm : torch::nn::Module {
  TinyNorm() { gamma = register_parameter("gamma", torch::ones({3})); }
  torch::Tensor gamma;
};

struct TinyNet : torch::nn::Module {
  TinyNet() {
    weight = register_parameter("weight", torch::ones({3, 2}));
    bias = register_parameter("bias", torch::ones({3}));
    bn = register_module("bn", std::make_shared<TinyNorm>());
    frozen = register_parameter("frozen", torch::ones({2, 2}),
                                /*requires_grad=*/false);
  }
  torch::Tensor weight, bias, frozen;
  std::shared_ptr<TinyNorm> bn;
};

TEST(SplitParamsForLarsTest, ExcludesVectorsAndSkipsFrozenParams) {
  TinyNet net;
  std::vector<ParamGroup> groups = SplitParamsForLars(net);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_FALSE(groups[0].exclude_from_adaptation);
  EXPECT_EQ(groups[0].names, std::vector<std::string>({"weight"}));
  EXPECT_TRUE(groups[1].exclude_from_adaptation);
  EXPECT_EQ(groups[1].names, std::vector<std::string>({"bias", "bn.gamma"}));
}

}  // namespace
}  // namespace simclr::model
