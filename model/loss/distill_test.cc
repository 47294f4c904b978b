#include "model/loss/distill.h"

#include <filesystem>
#include <string>

#include <torch/csrc/autograd/autograd.h>
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

TEST(DistillationLossTest, MatchesPytorchReferenceForTemperaturesAndLabelWeights) {
  torch::manual_seed(3);
  const torch::Tensor student = 2.0 * torch::randn({6, 5}, torch::kFloat64);
  const torch::Tensor teacher = 3.0 * torch::randn({6, 5}, torch::kFloat64);
  const torch::Tensor labels = torch::tensor({0, 4, 2, 2, 1, 3}, torch::kLong);
  const struct {
    double tau, w;
  } cases[] = {{1.0, 0.0}, {0.5, 0.0}, {2.0, 0.3}, {1.0, 1.0}};
  int index = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "tau " << c.tau << " w " << c.w);
    const std::string dir = TestTempPath("distill" + std::to_string(index++));
    std::filesystem::create_directories(dir);
    ASSERT_TRUE(WriteTensor(dir + "/student", student).ok());
    ASSERT_TRUE(WriteTensor(dir + "/teacher", teacher).ok());
    ASSERT_TRUE(WriteTensor(dir + "/labels", labels.to(torch::kFloat64)).ok());
    absl::Status run =
        RunPython(RunfilePath("model/loss/testing/distill_reference.py"),
                  {dir, std::to_string(c.tau), std::to_string(c.w)});
    ASSERT_TRUE(run.ok()) << run;

    torch::Tensor s = student.clone().requires_grad_(true);
    torch::Tensor t = teacher.clone().requires_grad_(true);
    absl::StatusOr<torch::Tensor> loss =
        DistillationLoss(s, t, labels, {c.tau, c.w});
    ASSERT_TRUE(loss.ok()) << loss.status();
    loss->backward();
    EXPECT_NEAR(loss->item<double>(), ReadTensor(dir + "/loss")->item<double>(),
                1e-12);
    EXPECT_LT((s.grad() - *ReadTensor(dir + "/grad_student")).abs().max()
                  .item<double>(),
              1e-12);
    EXPECT_FALSE(t.grad().defined());  // the teacher is not trained
  }
}

// Distillation with labels for some images only (the paper's Eq. 3): the
// unlabelled ones (-1) get no label loss, so their gradient is the soft-target
// term's alone.
TEST(DistillationLossTest, LabelLossTouchesTheLabelledImagesOnly) {
  torch::manual_seed(5);
  const torch::Tensor student = 2.0 * torch::randn({6, 5}, torch::kFloat64);
  const torch::Tensor teacher = 3.0 * torch::randn({6, 5}, torch::kFloat64);
  const torch::Tensor some = torch::tensor({0, -1, 2, -1, -1, 3}, torch::kLong);
  const torch::Tensor none = torch::full({6}, -1, torch::kLong);
  int index = 0;
  for (const torch::Tensor& labels : {some, none}) {
    for (const double tau : {1.0, 2.0}) {
      SCOPED_TRACE(::testing::Message() << "labels " << labels << " tau " << tau);
      const std::string dir = TestTempPath("partial" + std::to_string(index++));
      std::filesystem::create_directories(dir);
      ASSERT_TRUE(WriteTensor(dir + "/student", student).ok());
      ASSERT_TRUE(WriteTensor(dir + "/teacher", teacher).ok());
      ASSERT_TRUE(WriteTensor(dir + "/labels", labels.to(torch::kFloat64)).ok());
      ASSERT_TRUE(RunPython(RunfilePath("model/loss/testing/distill_reference.py"),
                            {dir, std::to_string(tau), "0.5"})
                      .ok());
      torch::Tensor s = student.clone().requires_grad_(true);
      absl::StatusOr<torch::Tensor> loss = DistillationLoss(s, teacher, labels, {tau, 0.5});
      ASSERT_TRUE(loss.ok()) << loss.status();
      loss->backward();
      EXPECT_NEAR(loss->item<double>(), ReadTensor(dir + "/loss")->item<double>(), 1e-12);
      EXPECT_LT((s.grad() - *ReadTensor(dir + "/grad_student")).abs().max().item<double>(),
                1e-12);

      // The unlabelled rows' gradient equals that of the soft targets alone.
      torch::Tensor s_soft = student.clone().requires_grad_(true);
      DistillationLoss(s_soft, teacher, {}, {tau, 0.0})->mul(0.5).backward();
      const torch::Tensor unlabelled = labels.lt(0).nonzero().squeeze(1);
      EXPECT_LT((s.grad().index_select(0, unlabelled) - s_soft.grad().index_select(0, unlabelled))
                    .abs()
                    .max()
                    .item<double>(),
                1e-12);
    }
  }
}

TEST(DistillationLossTest, EqualsTeacherEntropyWhenStudentMatchesTeacher) {
  // tau^2 * -sum p log p with p = softmax(t / tau): the minimum over students.
  const torch::Tensor t = torch::tensor({{1.0, 2.0, 0.5}}, torch::kFloat64);
  absl::StatusOr<torch::Tensor> loss = DistillationLoss(t, t, {}, {2.0, 0.0});
  ASSERT_TRUE(loss.ok());
  const double e0 = std::exp(0.5), e1 = std::exp(1.0), e2 = std::exp(0.25);
  const double z = e0 + e1 + e2;
  double entropy = 0;
  for (double e : {e0, e1, e2}) entropy -= (e / z) * std::log(e / z);
  EXPECT_NEAR(loss->item<double>(), 4.0 * entropy, 1e-13);
}

TEST(DistillationLossTest, RejectsBadOptionsAndInputs) {
  const torch::Tensor s = torch::randn({2, 3}, torch::kFloat64);
  const torch::Tensor labels = torch::tensor({0, 2}, torch::kLong);
  EXPECT_EQ(DistillationLoss(s, s, labels, {0.0, 0.0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DistillationLoss(s, s, labels, {1.0, 1.5}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DistillationLoss(s, torch::randn({2, 4}), labels, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status no_labels = DistillationLoss(s, s, {}, {1.0, 0.5}).status();
  EXPECT_EQ(no_labels.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_labels.message().find("labels"), std::string::npos);
  absl::Status out_of_range =
      DistillationLoss(s, s, torch::tensor({0, 3}, torch::kLong), {1.0, 0.5})
          .status();
  EXPECT_EQ(out_of_range.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(out_of_range.message().find("[0, 3]"), std::string::npos);
  EXPECT_EQ(DistillationLoss(s, s, torch::tensor({-2, 0}, torch::kLong), {1.0, 0.5})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace simclr::model
