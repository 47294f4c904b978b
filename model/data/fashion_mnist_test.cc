#include "model/data/fashion_mnist.h"

#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/data/open_dataset.h"

namespace simclr::model {
namespace {

const std::string kDir = kFashionMnistDefaultDir;

std::string TmpDir(const std::string& name) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  EXPECT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  return dir;
}

void CopyFile(const std::string& from, const std::string& to, size_t max_bytes) {
  std::ifstream in(from, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() > max_bytes) bytes.resize(max_bytes);
  std::ofstream(to, std::ios::binary) << bytes;
}

void WriteGzip(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), bytes.size()), static_cast<int>(bytes.size()));
  gzclose(f);
}

std::string BigEndian(std::vector<uint32_t> words) {
  std::string out;
  for (uint32_t w : words) {
    out.push_back(static_cast<char>(w >> 24));
    out.push_back(static_cast<char>(w >> 16));
    out.push_back(static_cast<char>(w >> 8));
    out.push_back(static_cast<char>(w));
  }
  return out;
}

class FashionMnistTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto train = ReadFashionMnist(kDir, "train");
    ASSERT_TRUE(train.ok()) << train.status();
    train_ = train->release();
  }
  static void TearDownTestSuite() { delete train_; }
  static InMemoryDataset* train_;
};
InMemoryDataset* FashionMnistTest::train_ = nullptr;

TEST_F(FashionMnistTest, TrainAndTestSplitsHaveTheirCountsAndShape) {
  EXPECT_EQ(train_->size(), 60000);
  EXPECT_EQ(train_->num_classes(), 10);
  EXPECT_EQ(train_->channels(), 1);
  EXPECT_EQ(train_->height(), 28);
  EXPECT_EQ(train_->width(), 28);
  auto test = ReadFashionMnist(kDir, "test");
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ((*test)->size(), 10000);
  const Example example = (*test)->Get(9999);
  EXPECT_EQ(example.image.scalar_type(), at::kByte);
  EXPECT_EQ(example.image.sizes(), (at::IntArrayRef{1, 28, 28}));
}

TEST_F(FashionMnistTest, TrainLabelsAreBalanced) {
  std::vector<int64_t> histogram(10, 0);
  for (int64_t i = 0; i < train_->size(); ++i) ++histogram[train_->Label(i)];
  for (int64_t count : histogram) EXPECT_EQ(count, 6000);
}

TEST_F(FashionMnistTest, PixelsAndLabelsMatchAnIndependentPythonReader) {
  const std::string out = std::string(std::getenv("TEST_TMPDIR")) + "/checksum.txt";
  const std::string command = "/usr/bin/python3 model/data/testdata/idx_checksum.py " + kDir +
                              "/train-images-idx3-ubyte.gz " + kDir +
                              "/train-labels-idx1-ubyte.gz " + out;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  int64_t count, rows, cols, pixel_sum, weighted, label_weighted;
  std::ifstream(out) >> count >> rows >> cols >> pixel_sum >> weighted >> label_weighted;

  int64_t my_pixel_sum = 0, my_weighted = 0, my_label_weighted = 0;
  const uint8_t* pixels = train_->images().data_ptr<uint8_t>();
  for (int64_t i = 0; i < train_->images().numel(); ++i) {
    my_pixel_sum += pixels[i];
    my_weighted += pixels[i] * (i % 1000 + 1);
  }
  for (int64_t i = 0; i < train_->size(); ++i) my_label_weighted += train_->Label(i) * (i + 1);
  EXPECT_EQ(count, train_->size());
  EXPECT_EQ(rows * cols, 28 * 28);
  EXPECT_EQ(my_pixel_sum, pixel_sum);
  EXPECT_EQ(my_weighted, weighted);
  EXPECT_EQ(my_label_weighted, label_weighted);
  // Get() returns the stored pixels of that example, not another's.
  const Example example = train_->Get(12345);
  EXPECT_EQ(example.image.data_ptr<uint8_t>()[400], pixels[12345 * 784 + 400]);
  EXPECT_EQ(example.label, train_->labels()[12345]);
}

TEST(FashionMnistErrorTest, TruncatedImageFileIsDataLossNamingTheFile) {
  const std::string dir = TmpDir("truncated");
  CopyFile(kDir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-images-idx3-ubyte.gz", 200000);
  CopyFile(kDir + "/t10k-labels-idx1-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz", 1 << 30);
  auto result = ReadFashionMnist(dir, "test");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(result.status().message().find("t10k-images-idx3-ubyte.gz"), std::string::npos)
      << result.status();
}

TEST(FashionMnistErrorTest, WrongMagicAndShortPayloadAreReported) {
  const std::string dir = TmpDir("magic");
  // Images with a labels magic number.
  WriteGzip(dir + "/t10k-images-idx3-ubyte.gz", BigEndian({0x801, 1, 28, 28}) +
                                                    std::string(784, '\0'));
  WriteGzip(dir + "/t10k-labels-idx1-ubyte.gz", BigEndian({0x801, 1}) + std::string(1, '\3'));
  auto result = ReadFashionMnist(dir, "test");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("magic"), std::string::npos) << result.status();
  EXPECT_NE(result.status().message().find("00000803"), std::string::npos) << result.status();

  // A header promising two images over one image's bytes.
  WriteGzip(dir + "/t10k-images-idx3-ubyte.gz", BigEndian({0x803, 2, 28, 28}) +
                                                    std::string(784, '\0'));
  result = ReadFashionMnist(dir, "test");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("expected 1584"), std::string::npos)
      << result.status();

  // Consistent images, but a label out of range.
  WriteGzip(dir + "/t10k-images-idx3-ubyte.gz", BigEndian({0x803, 1, 28, 28}) +
                                                    std::string(784, '\0'));
  WriteGzip(dir + "/t10k-labels-idx1-ubyte.gz", BigEndian({0x801, 1}) + std::string(1, '\12'));
  result = ReadFashionMnist(dir, "test");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("label 10"), std::string::npos) << result.status();
}

TEST(FashionMnistErrorTest, MissingFilesAndBadSplitsAreErrors) {
  EXPECT_EQ(ReadFashionMnist(TmpDir("empty"), "train").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadFashionMnist(kDir, "validation").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(OpenDatasetTest, OpensFashionMnistByNameAndRejectsUnknownNames) {
  auto dataset = OpenDataset("fashion-mnist", "", "test");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ((*dataset)->size(), 10000);
  auto unknown = OpenDataset("imagenet", "/tmp", "train");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("imagenet"), std::string::npos);
  EXPECT_FALSE(OpenDataset("image-folder", "/nonexistent", "").ok());
}

}  // namespace
}  // namespace simclr::model
