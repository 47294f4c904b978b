// CIFAR-10 and image-folder readers on small files the test writes itself.
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/data/cifar10.h"
#include "model/data/image_folder.h"
#include "model/data/open_dataset.h"

namespace simclr::model {
namespace {

std::string TmpDir(const std::string& name) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  EXPECT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  return dir;
}

// A CIFAR record whose label is `label` and whose pixel p is (seed + p) % 256.
std::string CifarRecord(int label, int seed) {
  std::string record(1 + 3072, '\0');
  record[0] = static_cast<char>(label);
  for (int p = 0; p < 3072; ++p) record[1 + p] = static_cast<char>((seed + p) % 256);
  return record;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(Cifar10Test, ReadsTrainBatchesInOrderWithChannelPlanes) {
  const std::string dir = TmpDir("cifar") + "/cifar-10-batches-bin";
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  for (int b = 1; b <= 5; ++b) {
    WriteFile(dir + "/data_batch_" + std::to_string(b) + ".bin",
              CifarRecord(b, 10 * b) + CifarRecord(9 - b, 10 * b + 1));
  }
  WriteFile(dir + "/test_batch.bin", CifarRecord(7, 99));

  // The parent folder works too: the reader descends into cifar-10-batches-bin.
  auto train = ReadCifar10(dir.substr(0, dir.rfind('/')), "train");
  ASSERT_TRUE(train.ok()) << train.status();
  ASSERT_EQ((*train)->size(), 10);
  EXPECT_EQ((*train)->num_classes(), 10);
  EXPECT_EQ((*train)->channels(), 3);
  EXPECT_EQ((*train)->height(), 32);
  // Record 2k is batch k+1's first record, 2k+1 its second.
  EXPECT_EQ((*train)->Label(4), 3);
  EXPECT_EQ((*train)->Label(5), 6);
  const Example e = (*train)->Get(5);
  // Batch 3, second record: pixel p = (31 + p) % 256; G plane starts at 1024.
  EXPECT_EQ(e.image[0][0][0].item<uint8_t>(), 31);
  EXPECT_EQ(e.image[1][0][0].item<uint8_t>(), (31 + 1024) % 256);
  EXPECT_EQ(e.image[2][31][31].item<uint8_t>(), (31 + 3071) % 256);

  auto test = OpenDataset("cifar10", dir, "test");
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ((*test)->size(), 1);
  EXPECT_EQ((*test)->Label(0), 7);
}

TEST(Cifar10Test, BadSizeBadLabelAndMissingBatchAreErrorsNamingTheFile) {
  const std::string dir = TmpDir("cifar_bad");
  WriteFile(dir + "/test_batch.bin", CifarRecord(1, 0) + "xyz");
  auto result = ReadCifar10(dir, "test");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(result.status().message().find("test_batch.bin"), std::string::npos);
  EXPECT_NE(result.status().message().find("3073"), std::string::npos);

  WriteFile(dir + "/test_batch.bin", CifarRecord(1, 0) + CifarRecord(12, 0));
  result = ReadCifar10(dir, "test");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("record 1 has label 12"), std::string::npos)
      << result.status();

  WriteFile(dir + "/data_batch_1.bin", CifarRecord(1, 0));
  result = ReadCifar10(dir, "train");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(result.status().message().find("data_batch_2.bin"), std::string::npos);
}

class ImageFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TmpDir("folder") + "/train";
    const std::string command =
        "/usr/bin/python3 model/data/testdata/make_image_folder.py " + root_;
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    std::ifstream in(root_ + ".expected", std::ios::binary);
    expected_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    ASSERT_EQ(expected_.size(), 3u * 6 * 8 * 3 + 12 * 16 * 3);
  }

  // Expected pixel (c, y, x) of the 6x8 image stored at `offset` (HWC).
  int Pixel(size_t offset, int c, int y, int x) const {
    return static_cast<unsigned char>(expected_[offset + (y * 8 + x) * 3 + c]);
  }

  std::string root_;
  std::string expected_;
};

TEST_F(ImageFolderTest, DecodesPngAndJpegWithClassesFromFolderNames) {
  DatasetOptions options;
  options.image_height = 6;
  options.image_width = 8;
  auto opened = OpenDataset("image-folder", root_.substr(0, root_.rfind('/')), "train", options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  const Dataset& dataset = **opened;
  ASSERT_EQ(dataset.size(), 4);  // notes.txt is skipped
  EXPECT_EQ(dataset.num_classes(), 2);
  EXPECT_EQ(dataset.Label(0), 0);  // bird/a.png
  EXPECT_EQ(dataset.Label(1), 0);  // bird/b.jpg
  EXPECT_EQ(dataset.Label(2), 1);  // cat/big.png
  EXPECT_EQ(dataset.Label(3), 1);  // cat/c.PNG

  const size_t kSmall = 6 * 8 * 3;
  const size_t offsets[] = {0, kSmall, 0, 2 * kSmall + 12 * 16 * 3};
  for (int64_t i : {0, 1, 3}) {
    const at::Tensor image = dataset.Get(i).image;
    ASSERT_EQ(image.sizes(), (at::IntArrayRef{3, 6, 8}));
    int max_diff = 0;
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < 6; ++y) {
        for (int x = 0; x < 8; ++x) {
          const int mine = image[c][y][x].item<uint8_t>();
          max_diff = std::max(max_diff, std::abs(mine - Pixel(offsets[i], c, y, x)));
        }
      }
    }
    // PNG is lossless; libjpeg and PIL's decoder may differ by a level.
    EXPECT_LE(max_diff, i == 1 ? 2 : 0) << "example " << i;
  }
}

TEST_F(ImageFolderTest, ResizesLargerImagesToTheRequestedSize) {
  ImageFolderOptions options;
  options.height = 6;
  options.width = 8;
  auto dataset = ImageFolderDataset::Open(root_, options);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ((*dataset)->class_names(), (std::vector<std::string>{"bird", "cat"}));
  const at::Tensor image = (*dataset)->Get(2).image;  // cat/big.png, 12x16
  ASSERT_EQ(image.sizes(), (at::IntArrayRef{3, 6, 8}));
  // Halving with bilinear (align_corners=false) averages each 2x2 block.
  const size_t big = 2 * 6 * 8 * 3;
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 6; ++y) {
      for (int x = 0; x < 8; ++x) {
        double sum = 0;
        for (int dy = 0; dy < 2; ++dy) {
          for (int dx = 0; dx < 2; ++dx) {
            sum += static_cast<unsigned char>(
                expected_[big + ((2 * y + dy) * 16 + (2 * x + dx)) * 3 + c]);
          }
        }
        EXPECT_NEAR(image[c][y][x].item<uint8_t>(), sum / 4.0, 0.51);
      }
    }
  }

  options.channels = 1;
  auto gray = ImageFolderDataset::Open(root_, options);
  ASSERT_TRUE(gray.ok()) << gray.status();
  EXPECT_EQ((*gray)->Get(0).image.sizes(), (at::IntArrayRef{1, 6, 8}));
}

TEST_F(ImageFolderTest, CorruptFilesAndBadOptionsAreErrors) {
  WriteFile(root_ + "/cat/d.png", "\x89PNG\r\n\x1a\n-not-really-a-png");
  ImageFolderOptions options;
  options.height = 6;
  options.width = 8;
  auto result = ImageFolderDataset::Open(root_, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(result.status().message().find("cat/d.png"), std::string::npos) << result.status();

  WriteFile(root_ + "/cat/d.png", "\xFF\xD8\xFF\xE0 truncated jpeg");
  result = ImageFolderDataset::Open(root_, options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("JPEG"), std::string::npos) << result.status();

  options.height = 0;
  result = ImageFolderDataset::Open(root_, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace simclr::model
