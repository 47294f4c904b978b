#include "model/data/subset.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/data/fashion_mnist.h"

namespace simclr::model {
namespace {

class SubsetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto train = ReadFashionMnist(kFashionMnistDefaultDir, "train");
    ASSERT_TRUE(train.ok()) << train.status();
    train_ = train->release();
  }
  static void TearDownTestSuite() { delete train_; }

  static std::vector<int64_t> PerClass(const std::vector<int64_t>& indices) {
    std::vector<int64_t> counts(10, 0);
    for (int64_t i : indices) ++counts[train_->Label(i)];
    return counts;
  }

  static InMemoryDataset* train_;
};
InMemoryDataset* SubsetTest::train_ = nullptr;

std::string WriteIndexFile(const std::string& name, const std::string& text) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST_F(SubsetTest, OnePercentAndTenPercentKeepExactPerClassCounts) {
  auto one = ClassBalancedIndices(*train_, 0.01, 1);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->size(), 600u);
  EXPECT_EQ(PerClass(*one), std::vector<int64_t>(10, 60));

  auto ten = ClassBalancedIndices(*train_, 0.10, 1);
  ASSERT_TRUE(ten.ok()) << ten.status();
  EXPECT_EQ(ten->size(), 6000u);
  EXPECT_EQ(PerClass(*ten), std::vector<int64_t>(10, 600));
  // Ascending and without repeats.
  for (size_t i = 1; i < ten->size(); ++i) EXPECT_LT((*ten)[i - 1], (*ten)[i]);
}

TEST_F(SubsetTest, SameSeedSameSubsetOtherSeedOtherSubset) {
  const std::vector<int64_t> a = ClassBalancedIndices(*train_, 0.01, 7).value();
  const std::vector<int64_t> b = ClassBalancedIndices(*train_, 0.01, 7).value();
  const std::vector<int64_t> c = ClassBalancedIndices(*train_, 0.01, 8).value();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::set<int64_t> overlap;
  for (int64_t i : a) overlap.insert(i);
  int shared = 0;
  for (int64_t i : c) shared += overlap.count(i);
  // Independent 1% draws per class share ~1% of their members.
  EXPECT_LT(shared, 60);
}

// What a distillation job with 1% of the labels trains on: every image, the
// labels of the 1% only.
TEST_F(SubsetTest, PartiallyLabelledDatasetHidesTheLabelsOutsideTheSubset) {
  const std::vector<int64_t> one = ClassBalancedIndices(*train_, 0.01, 7).value();
  const PartiallyLabelledDataset view(train_, one);
  EXPECT_EQ(view.size(), train_->size());
  EXPECT_EQ(view.labelled_count(), 600);
  const std::set<int64_t> labelled(one.begin(), one.end());
  std::vector<int64_t> per_class(10, 0);
  for (int64_t i = 0; i < view.size(); ++i) {
    if (labelled.count(i) > 0) {
      ASSERT_EQ(view.Label(i), train_->Label(i)) << i;
      ++per_class[view.Label(i)];
    } else {
      ASSERT_EQ(view.Label(i), kUnlabelled) << i;
    }
  }
  EXPECT_EQ(per_class, std::vector<int64_t>(10, 60));
  // Get agrees with Label and keeps the image.
  const Example hidden = view.Get(one[0] == 0 ? 1 : 0);
  EXPECT_EQ(hidden.label, kUnlabelled);
  EXPECT_TRUE(hidden.image.equal(train_->Get(one[0] == 0 ? 1 : 0).image));
  EXPECT_EQ(view.Get(one[0]).label, train_->Label(one[0]));
}

TEST(BalancedClassCountTest, RoundsToNearestWithAtLeastOne) {
  EXPECT_EQ(BalancedClassCount(0.01, 6000), 60);
  EXPECT_EQ(BalancedClassCount(0.01, 1300), 13);
  EXPECT_EQ(BalancedClassCount(0.01, 1250), 13);  // 12.5 rounds away from zero
  EXPECT_EQ(BalancedClassCount(0.01, 1249), 12);
  EXPECT_EQ(BalancedClassCount(0.01, 10), 1);
  EXPECT_EQ(BalancedClassCount(1.0, 10), 10);
  EXPECT_EQ(BalancedClassCount(0.5, 0), 0);
}

TEST_F(SubsetTest, RejectsFractionsOutsideZeroToOne) {
  EXPECT_FALSE(ClassBalancedIndices(*train_, 0.0, 1).ok());
  EXPECT_FALSE(ClassBalancedIndices(*train_, 1.5, 1).ok());
  EXPECT_EQ(ClassBalancedIndices(*train_, 1.0, 1).value().size(), 60000u);
}

TEST_F(SubsetTest, IndexFileKeepsFileOrderAndSkipsCommentsAndBlanks) {
  const std::string path = WriteIndexFile("ok.txt", "# chosen by hand\n17\n\n  3 \n59999\n");
  EXPECT_EQ(ReadIndexFile(path, 60000).value(), (std::vector<int64_t>{17, 3, 59999}));

  SubsetOptions options;
  options.index_file = path;
  auto subset = MakeSubset(train_, options);
  ASSERT_TRUE(subset.ok()) << subset.status();
  EXPECT_EQ((*subset)->size(), 3);
  EXPECT_EQ((*subset)->BaseIndex(1), 3);
  EXPECT_EQ((*subset)->Label(2), train_->Label(59999));
  EXPECT_TRUE((*subset)->Get(0).image.equal(train_->Get(17).image));
}

TEST_F(SubsetTest, IndexFileErrorsNameTheLine) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"1\n2\nthree\n", ":3: not an integer index"},
      {"1\n\n60000\n", ":3: index 60000 outside [0, 60000)"},
      {"-4\n", ":1: index -4 outside"},
      {"5\n6\n5\n", ":3: index 5 repeats line 1"},
      {"# nothing\n", "lists no indices"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string path = WriteIndexFile("bad" + std::to_string(i) + ".txt", cases[i].text);
    auto result = ReadIndexFile(path, 60000);
    ASSERT_FALSE(result.ok()) << cases[i].text;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find(cases[i].expected), std::string::npos)
        << result.status();
  }
  EXPECT_EQ(ReadIndexFile("/nonexistent/indices.txt", 10).status().code(),
            absl::StatusCode::kNotFound);
}

// Reported: a label_index_file naming /etc/os-release put the file's first
// line into the job's reason, readable by every client.
TEST_F(SubsetTest, IndexFileErrorsNeverQuoteTheFile) {
  const std::string path =
      WriteIndexFile("secret.txt", "PRETTY_NAME=\"s3cr3t-value\"\nNAME=Debian\n");
  auto result = ReadIndexFile(path, 60000);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message().find("s3cr3t"), std::string::npos) << result.status();
  EXPECT_NE(result.status().message().find(path + ":1: not an integer index"),
            std::string::npos)
      << result.status();
}

// /dev/zero has no line end: reading it must stop at a bound, not fill memory.
TEST_F(SubsetTest, AnEndlessIndexFileIsRefusedAtABound) {
  auto result = ReadIndexFile("/dev/zero", 60000);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("/dev/zero:1: longer than"), std::string::npos)
      << result.status();
}

TEST_F(SubsetTest, MaxExamplesKeepsAPrefixAfterTheSelection) {
  SubsetOptions options;
  options.fraction = 0.1;
  options.seed = 3;
  options.max_examples = 25;
  const std::vector<int64_t> limited = SelectIndices(*train_, options).value();
  options.max_examples = 0;
  const std::vector<int64_t> full = SelectIndices(*train_, options).value();
  ASSERT_EQ(limited.size(), 25u);
  EXPECT_EQ(limited, std::vector<int64_t>(full.begin(), full.begin() + 25));

  SubsetOptions all;
  all.max_examples = 100;
  EXPECT_EQ(SelectIndices(*train_, all).value().back(), 99);

  SubsetOptions both;
  both.fraction = 0.1;
  both.index_file = "x";
  EXPECT_EQ(SelectIndices(*train_, both).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace simclr::model
