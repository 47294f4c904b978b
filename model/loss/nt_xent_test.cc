#include "model/loss/nt_xent.h"

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/types.h>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "model/loss/testing/reference_io.h"

namespace simclr::model {
namespace {

using ::simclr::model::testing::ReadTensor;
using ::simclr::model::testing::RunfilePath;
using ::simclr::model::testing::RunPython;
using ::simclr::model::testing::TestTempPath;
using ::simclr::model::testing::WriteTensor;

constexpr double kTolerance = 1e-9;

struct Reference {
  double loss;
  double accuracy;
  torch::Tensor grad_z1;
  torch::Tensor grad_z2;
};

// Runs model/loss/testing/nt_xent_reference.py on (z1, z2[, queue]).
Reference RunReference(const std::string& name, const torch::Tensor& z1,
                       const torch::Tensor& z2, double temperature,
                       const torch::Tensor& queue = torch::Tensor()) {
  const std::string dir = TestTempPath(name);
  std::filesystem::create_directories(dir);
  EXPECT_TRUE(WriteTensor(dir + "/z1", z1).ok());
  EXPECT_TRUE(WriteTensor(dir + "/z2", z2).ok());
  std::vector<std::string> args = {dir, std::to_string(temperature)};
  if (queue.defined()) {
    EXPECT_TRUE(WriteTensor(dir + "/queue", queue).ok());
    args.push_back("with_queue");
  }
  absl::Status run = RunPython(
      RunfilePath("model/loss/testing/nt_xent_reference.py"), args);
  EXPECT_TRUE(run.ok()) << run;
  Reference ref;
  ref.loss = ReadTensor(dir + "/loss").value().item<double>();
  ref.accuracy = ReadTensor(dir + "/accuracy").value().item<double>();
  ref.grad_z1 = ReadTensor(dir + "/grad_z1").value();
  ref.grad_z2 = ReadTensor(dir + "/grad_z2").value();
  return ref;
}

// Two views whose positives are close enough that some, not all, rank first.
void MakeViews(int64_t batch, int64_t dim, torch::Tensor& z1, torch::Tensor& z2) {
  torch::manual_seed(7);
  z1 = torch::randn({batch, dim}, torch::kFloat64);
  z2 = z1 + 0.9 * torch::randn({batch, dim}, torch::kFloat64);
}

double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

TEST(NtXentTest, LossGradientsAndAccuracyMatchFloat64Reference) {
  torch::Tensor z1, z2;
  MakeViews(8, 5, z1, z2);
  for (double temperature : {0.1, 0.5}) {
    SCOPED_TRACE(temperature);
    const Reference ref = RunReference(
        "ws1_t" + std::to_string(temperature), z1, z2, temperature);
    torch::Tensor a = z1.clone().requires_grad_(true);
    torch::Tensor b = z2.clone().requires_grad_(true);
    absl::StatusOr<NtXentOutput> out = NtXentLoss(a, b, {temperature});
    ASSERT_TRUE(out.ok()) << out.status();
    out->loss.backward();
    EXPECT_NEAR(out->loss.item<double>(), ref.loss, kTolerance);
    EXPECT_DOUBLE_EQ(out->accuracy.item<double>(), ref.accuracy);
    EXPECT_LT(MaxAbsDiff(a.grad(), ref.grad_z1), kTolerance);
    EXPECT_LT(MaxAbsDiff(b.grad(), ref.grad_z2), kTolerance);
  }
}

TEST(NtXentTest, ReferenceAccuracyIsNonTrivialForTheseInputs) {
  // Guards the test data: an accuracy of exactly 0 or 1 would let a wrong
  // positive index pass the accuracy comparison above.
  torch::Tensor z1, z2;
  MakeViews(8, 5, z1, z2);
  absl::StatusOr<NtXentOutput> out = NtXentLoss(z1, z2, {0.1});
  ASSERT_TRUE(out.ok());
  EXPECT_GT(out->accuracy.item<double>(), 0.0);
  EXPECT_LT(out->accuracy.item<double>(), 1.0);
}

TEST(NtXentTest, ExtraNegativesMatchReferenceAndGetNoGradient) {
  torch::Tensor z1, z2;
  MakeViews(6, 4, z1, z2);
  torch::Tensor queue = torch::randn({10, 4}, torch::kFloat64)
                            .requires_grad_(true);
  const Reference ref = RunReference("queue", z1, z2, 0.2, queue);
  torch::Tensor a = z1.clone().requires_grad_(true);
  torch::Tensor b = z2.clone().requires_grad_(true);
  absl::StatusOr<NtXentOutput> out =
      NtXentLossWithExtraNegatives(a, b, queue, {0.2});
  ASSERT_TRUE(out.ok()) << out.status();
  out->loss.backward();
  EXPECT_NEAR(out->loss.item<double>(), ref.loss, kTolerance);
  EXPECT_DOUBLE_EQ(out->accuracy.item<double>(), ref.accuracy);
  EXPECT_LT(MaxAbsDiff(a.grad(), ref.grad_z1), kTolerance);
  EXPECT_LT(MaxAbsDiff(b.grad(), ref.grad_z2), kTolerance);
  EXPECT_FALSE(queue.grad().defined());

  // More negatives can only raise the loss.
  absl::StatusOr<NtXentOutput> plain = NtXentLoss(z1, z2, {0.2});
  ASSERT_TRUE(plain.ok());
  EXPECT_GT(out->loss.item<double>(), plain->loss.item<double>());
}

struct RankResult {
  absl::Status status;
  double loss = 0;
  double accuracy = 0;
  torch::Tensor grad_z1;
  torch::Tensor grad_z2;
};

TEST(NtXentTest, TwoGlooRanksReproduceWorldSizeOneBatch) {
  constexpr int kWorld = 2;
  constexpr int64_t kPerRank = 4;
  torch::Tensor z1, z2;
  MakeViews(kWorld * kPerRank, 5, z1, z2);
  const Reference ref = RunReference("ws2", z1, z2, 0.1);

  auto store = c10::make_intrusive<c10d::HashStore>();
  std::vector<RankResult> results(kWorld);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < kWorld; ++rank) {
    threads.emplace_back([&, rank] {
      RankResult& result = results[rank];
      try {
        auto options = c10d::ProcessGroupGloo::Options::create();
        options->devices.push_back(
            c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
        options->timeout = std::chrono::seconds(60);
        auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(
            store, rank, kWorld, options);
        torch::Tensor a = z1.narrow(0, rank * kPerRank, kPerRank)
                              .clone().requires_grad_(true);
        torch::Tensor b = z2.narrow(0, rank * kPerRank, kPerRank)
                              .clone().requires_grad_(true);
        absl::StatusOr<NtXentOutput> out = NtXentLoss(a, b, {0.1}, group.get());
        if (!out.ok()) {
          result.status = out.status();
          return;
        }
        out->loss.backward();
        result.loss = out->loss.item<double>();
        result.accuracy = out->accuracy.item<double>();
        result.grad_z1 = a.grad();
        result.grad_z2 = b.grad();
      } catch (const std::exception& e) {
        result.status = absl::InternalError(e.what());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const RankResult& r : results) ASSERT_TRUE(r.status.ok()) << r.status;

  // NOTE [NT-Xent scaling]: the mean of the per-rank losses (and accuracies)
  // is the world-size-1 value; each rank's input gradient is world_size times
  // the world-size-1 gradient of its rows, so averaging over ranks recovers it.
  EXPECT_NEAR((results[0].loss + results[1].loss) / kWorld, ref.loss, kTolerance);
  EXPECT_DOUBLE_EQ((results[0].accuracy + results[1].accuracy) / kWorld,
                   ref.accuracy);
  EXPECT_GT(std::abs(results[0].loss - results[1].loss), 1e-6);
  for (int rank = 0; rank < kWorld; ++rank) {
    SCOPED_TRACE(rank);
    EXPECT_LT(MaxAbsDiff(results[rank].grad_z1 / kWorld,
                         ref.grad_z1.narrow(0, rank * kPerRank, kPerRank)),
              kTolerance);
    EXPECT_LT(MaxAbsDiff(results[rank].grad_z2 / kWorld,
                         ref.grad_z2.narrow(0, rank * kPerRank, kPerRank)),
              kTolerance);
  }
}

TEST(NtXentTest, RejectsBadInputsWithInvalidArgument) {
  torch::Tensor z = torch::randn({4, 3}, torch::kFloat64);
  EXPECT_EQ(NtXentLoss(z, torch::randn({4, 2}, torch::kFloat64), {0.1})
                .status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NtXentLoss(z, z, {0.0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NtXentLoss(torch::randn({0, 3}), torch::randn({0, 3}), {0.1})
                .status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status bad_queue =
      NtXentLossWithExtraNegatives(z, z, torch::randn({5, 4}, torch::kFloat64),
                                   {0.1})
          .status();
  EXPECT_EQ(bad_queue.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_queue.message().find("[5, 4]"), std::string::npos);
}

}  // namespace
}  // namespace simclr::model
