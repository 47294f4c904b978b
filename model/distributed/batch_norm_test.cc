// Global batch norm over 2 ranks must reproduce torch::nn::BatchNorm{1,2}d on
// one replica holding the whole batch: outputs, input gradients, parameter
// gradients (summed over ranks) and running statistics, step after step.
#include "model/distributed/batch_norm.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/nn/modules/batchnorm.h>
#include <torch/types.h>

#include "gtest/gtest.h"
#include "model/distributed/collectives.h"
#include "model/distributed/process_group.h"
#include "model/distributed/testing/multi_rank.h"

namespace simclr::model {
namespace {

constexpr int kSteps = 2;  // the second step checks the running-stat update

struct StepResult {
  torch::Tensor output;
  torch::Tensor input_grad;
  torch::Tensor weight_grad;
  torch::Tensor bias_grad;  // undefined without beta
  torch::Tensor running_mean;
  torch::Tensor running_var;
};

struct Case {
  torch::Dtype dtype;
  std::vector<int64_t> shape;  // global batch
  std::vector<int64_t> split;  // rows per rank
  bool center;
  double tolerance;
  bool channels_last = false;  // the ranks' inputs and gradients NHWC
};

struct Data {
  torch::Tensor weight, bias;
  std::vector<torch::Tensor> inputs, upstream;
};

Data MakeData(const Case& c) {
  torch::manual_seed(7);
  const auto options = torch::dtype(c.dtype);
  const int64_t channels = c.shape[1];
  Data data;
  data.weight = torch::rand({channels}, options) + 0.5;
  data.bias = c.center ? torch::randn({channels}, options)
                       : torch::zeros({channels}, options);
  for (int step = 0; step < kSteps; ++step) {
    // Off-centre, non-unit data so that mean and variance both matter.
    data.inputs.push_back(torch::randn(c.shape, options) * 2.0 + 1.0);
    data.upstream.push_back(torch::randn(c.shape, options));
  }
  return data;
}

template <typename Reference>
std::vector<StepResult> RunReference(const Case& c, const Data& data,
                                     Reference bn) {
  bn->to(c.dtype);
  {
    torch::NoGradGuard no_grad;
    bn->weight.copy_(data.weight);
    bn->bias.copy_(data.bias);
  }
  bn->bias.set_requires_grad(c.center);
  bn->train();
  std::vector<StepResult> results;
  for (int step = 0; step < kSteps; ++step) {
    bn->zero_grad();
    torch::Tensor x = data.inputs[step].clone().requires_grad_(true);
    torch::Tensor y = bn->forward(x);
    (y * data.upstream[step]).sum().backward();
    results.push_back({y.detach(), x.grad(), bn->weight.grad().clone(),
                       c.center ? bn->bias.grad().clone() : torch::Tensor(),
                       bn->running_mean.clone(), bn->running_var.clone()});
  }
  return results;
}

// results[rank][step]
std::vector<std::vector<StepResult>> RunTwoRanks(const Case& c,
                                                 const Data& data) {
  std::vector<std::vector<StepResult>> results(2);
  const absl::Status status =
      testing::RunOnRanks(2, [&](int rank, c10d::ProcessGroup& group) {
        BatchNormOptions options;
        options.num_features = c.shape[1];
        options.center = c.center;
        BatchNorm bn(options);
        bn->to(c.dtype);
        {
          torch::NoGradGuard no_grad;
          bn->weight.copy_(data.weight);
          if (c.center) bn->bias.copy_(data.bias);
        }
        bn->set_process_group(&group);
        bn->train();
        const int64_t begin = rank == 0 ? 0 : c.split[0];
        const auto layout =
            c.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
        for (int step = 0; step < kSteps; ++step) {
          bn->zero_grad();
          torch::Tensor x = data.inputs[step]
                                .slice(0, begin, begin + c.split[rank])
                                .clone(layout)
                                .requires_grad_(true);
          torch::Tensor g =
              data.upstream[step].slice(0, begin, begin + c.split[rank]).clone(layout);
          torch::Tensor y = bn->forward(x);
          EXPECT_TRUE(y.is_contiguous(layout)) << "the layout is kept";
          (y * g).sum().backward();
          // The gradient of the whole-batch loss is the sum of the ranks'.
          results[rank].push_back(
              {y.detach(), x.grad(), AllReduceSum(bn->weight.grad(), &group),
               c.center ? AllReduceSum(bn->bias.grad(), &group)
                        : torch::Tensor(),
               bn->running_mean.clone(), bn->running_var.clone()});
        }
        EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), kSteps);
      });
  EXPECT_TRUE(status.ok()) << status;
  return results;
}

void ExpectClose(const torch::Tensor& actual, const torch::Tensor& expected,
                 double tolerance, const std::string& what) {
  ASSERT_TRUE(actual.defined()) << what;
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const double error = (actual.to(torch::kDouble) - expected.to(torch::kDouble))
                           .abs()
                           .max()
                           .item<double>();
  EXPECT_LE(error, tolerance) << what;
}

void ExpectMatchesOneReplica(const Case& c) {
  const Data data = MakeData(c);
  std::vector<StepResult> expected;
  if (c.shape.size() == 4) {
    expected = RunReference(c, data, torch::nn::BatchNorm2d(c.shape[1]));
  } else {
    expected = RunReference(c, data, torch::nn::BatchNorm1d(c.shape[1]));
  }
  const auto actual = RunTwoRanks(c, data);
  ASSERT_EQ(actual[0].size(), kSteps);
  ASSERT_EQ(actual[1].size(), kSteps);
  for (int step = 0; step < kSteps; ++step) {
    const std::string at = " at step " + std::to_string(step);
    const StepResult& e = expected[step];
    ExpectClose(torch::cat({actual[0][step].output, actual[1][step].output}),
                e.output, c.tolerance, "output" + at);
    ExpectClose(
        torch::cat({actual[0][step].input_grad, actual[1][step].input_grad}),
        e.input_grad, c.tolerance, "input gradient" + at);
    for (int rank = 0; rank < 2; ++rank) {
      const StepResult& a = actual[rank][step];
      const std::string on = at + " on rank " + std::to_string(rank);
      ExpectClose(a.weight_grad, e.weight_grad, c.tolerance, "weight grad" + on);
      if (c.center) {
        ExpectClose(a.bias_grad, e.bias_grad, c.tolerance, "bias grad" + on);
      }
      ExpectClose(a.running_mean, e.running_mean, c.tolerance,
                  "running_mean" + on);
      ExpectClose(a.running_var, e.running_var, c.tolerance,
                  "running_var" + on);
    }
  }
}

TEST(GlobalBatchNormTest, TwoRanksOfFourMatchOneReplicaOfEightFloat64) {
  ExpectMatchesOneReplica({torch::kDouble, {8, 3, 5, 5}, {4, 4}, true, 1e-10});
}

TEST(GlobalBatchNormTest, TwoRanksOfFourMatchOneReplicaOfEightFloat32) {
  ExpectMatchesOneReplica({torch::kFloat, {8, 3, 5, 5}, {4, 4}, true, 1e-5});
}

TEST(GlobalBatchNormTest, ChannelsLastMatchesOneReplica) {
  ExpectMatchesOneReplica({torch::kDouble, {8, 3, 5, 5}, {3, 5}, true, 1e-10, true});
  ExpectMatchesOneReplica({torch::kFloat, {8, 3, 5, 5}, {4, 4}, true, 1e-5, true});
}

TEST(GlobalBatchNormTest, FeatureInputWithUnevenSplitMatchesOneReplica) {
  // [N, C] as in the projection head; 3 + 5 rows weights the ranks unevenly.
  ExpectMatchesOneReplica({torch::kDouble, {8, 6}, {3, 5}, true, 1e-10});
  ExpectMatchesOneReplica({torch::kFloat, {8, 6}, {3, 5}, true, 1e-5});
}

TEST(GlobalBatchNormTest, WithoutBetaMatchesOneReplicaWithZeroBias) {
  ExpectMatchesOneReplica({torch::kDouble, {8, 4}, {4, 4}, false, 1e-10});
}

TEST(GlobalBatchNormTest, RankWithEmptyBatchStillMatches) {
  ExpectMatchesOneReplica({torch::kDouble, {6, 2, 3, 3}, {0, 6}, true, 1e-10});
}

TEST(GlobalBatchNormTest, BFloat16InputIsNormalisedInFloat32) {
  torch::manual_seed(3);
  const torch::Tensor input =
      (torch::randn({8, 2, 3, 3}) * 3.0 + 2.0).to(torch::kBFloat16);
  // Reference: float32 batch norm of the same (already rounded) values.
  const torch::Tensor expected =
      torch::nn::BatchNorm2d(2)->forward(input.to(torch::kFloat));
  std::vector<torch::Tensor> outputs(2);
  const absl::Status status =
      testing::RunOnRanks(2, [&](int rank, c10d::ProcessGroup& group) {
        BatchNorm bn(BatchNormOptions{.num_features = 2});
        bn->set_process_group(&group);
        torch::Tensor x =
            input.slice(0, 4 * rank, 4 * rank + 4).clone().requires_grad_(true);
        outputs[rank] = bn->forward(x);
        outputs[rank].sum().backward();
        EXPECT_EQ(x.grad().scalar_type(), torch::kBFloat16);
        EXPECT_EQ(bn->running_mean.scalar_type(), torch::kFloat);
      });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(outputs[0].scalar_type(), torch::kBFloat16);
  // bf16 keeps 8 significant bits: |y| < 4 rounds by at most 2^-7.
  ExpectClose(torch::cat({outputs[0], outputs[1]}), expected, 1.0 / 64,
              "bf16 output");
}

TEST(GlobalBatchNormTest, EvalModeUsesRunningStatisticsWithoutCommunicating) {
  const absl::Status status =
      testing::RunOnRanks(2, [](int rank, c10d::ProcessGroup& group) {
        // Only rank 0 runs the layer: a collective here would time out.
        if (rank != 0) return;
        BatchNorm bn(BatchNormOptions{.num_features = 2});
        bn->to(torch::kDouble);
        {
          torch::NoGradGuard no_grad;
          bn->running_mean.copy_(torch::tensor({1.0, -2.0}));
          bn->running_var.copy_(torch::tensor({4.0, 0.25}));
          bn->weight.copy_(torch::tensor({2.0, 3.0}));
          bn->bias.copy_(torch::tensor({0.5, -0.5}));
        }
        bn->set_process_group(&group);
        bn->eval();
        torch::Tensor x = torch::tensor({{3.0, -1.0}, {1.0, -2.0}},
                                        torch::kDouble);
        const double eps = 1e-5;
        torch::Tensor expected = torch::tensor(
            {{2.0 * 2.0 / std::sqrt(4.0 + eps) + 0.5,
              3.0 * 1.0 / std::sqrt(0.25 + eps) - 0.5},
             {0.5, -0.5}},
            torch::kDouble);
        ExpectClose(bn->forward(x), expected, 1e-12, "eval output");
        EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 0);
      },
                          absl::Seconds(2));
  EXPECT_TRUE(status.ok()) << status;
}

TEST(BatchNormTest, WithoutGroupIsOrdinaryBatchNorm) {
  const Case c{torch::kDouble, {6, 3, 2, 2}, {6, 0}, true, 1e-12};
  const Data data = MakeData(c);
  const auto expected =
      RunReference(c, data, torch::nn::BatchNorm2d(c.shape[1]));
  BatchNorm bn(BatchNormOptions{.num_features = 3});
  bn->to(torch::kDouble);
  {
    torch::NoGradGuard no_grad;
    bn->weight.copy_(data.weight);
    bn->bias.copy_(data.bias);
  }
  for (int step = 0; step < kSteps; ++step) {
    bn->zero_grad();
    torch::Tensor x = data.inputs[step].clone().requires_grad_(true);
    torch::Tensor y = bn->forward(x);
    (y * data.upstream[step]).sum().backward();
    ExpectClose(y, expected[step].output, c.tolerance, "output");
    ExpectClose(x.grad(), expected[step].input_grad, c.tolerance, "grad");
    ExpectClose(bn->running_var, expected[step].running_var, c.tolerance,
                "running_var");
  }
}

TEST(BatchNormTest, ParametersAndBuffersFollowPyTorchNamesAndPaperInit) {
  BatchNorm plain(BatchNormOptions{.num_features = 4});
  EXPECT_TRUE(torch::equal(plain->weight, torch::ones({4})));
  EXPECT_TRUE(plain->named_parameters().contains("bias"));
  EXPECT_TRUE(plain->named_buffers().contains("running_mean"));
  EXPECT_TRUE(plain->named_buffers().contains("running_var"));
  EXPECT_TRUE(plain->named_buffers().contains("num_batches_tracked"));

  BatchNorm last(BatchNormOptions{
      .num_features = 4, .center = false, .zero_init_gamma = true});
  EXPECT_TRUE(torch::equal(last->weight, torch::zeros({4})));
  EXPECT_FALSE(last->named_parameters().contains("bias"));
  EXPECT_FALSE(last->bias.defined());
}

TEST(BatchNormTest, SetBatchNormProcessGroupReachesNestedLayers) {
  ProcessGroupOptions options;
  options.world_size = 1;
  auto group = CreateProcessGroup(options);
  ASSERT_TRUE(group.ok()) << group.status();
  BatchNorm first(BatchNormOptions{.num_features = 2});
  BatchNorm second(BatchNormOptions{.num_features = 2});
  auto inner = std::make_shared<torch::nn::Module>();
  inner->register_module("bn", second);
  torch::nn::Module root;
  root.register_module("bn", first);
  root.register_module("block", inner);
  SetBatchNormProcessGroup(root, group->get());
  EXPECT_EQ(first->process_group(), group->get());
  EXPECT_EQ(second->process_group(), group->get());
  SetBatchNormProcessGroup(root, nullptr);
  EXPECT_EQ(second->process_group(), nullptr);
}

}  // namespace
}  // namespace simclr::model
