// Checks the pixel ops against torchvision's functional ops, run by
// /usr/bin/python3 on the same input (testdata/ops_reference.py).
#include "model/augment/image_ops.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/data/keyed_random.h"

namespace simclr::model {
namespace {

FloatImage RandomImage(int64_t c, int64_t h, int64_t w, uint64_t seed) {
  KeyedRandom rng({seed});
  FloatImage image(c, h, w);
  // Whole uint8 steps, like decoded images, plus a few saturated pixels.
  for (float& v : image.data) v = static_cast<float>(rng.UniformInt(256)) / 255.0f;
  image.data[0] = 1.0f;
  image.data[1] = 0.0f;
  return image;
}

FloatImage Channel0(const FloatImage& image) {
  FloatImage out(1, image.height, image.width);
  std::copy(image.plane(0), image.plane(0) + image.height * image.width, out.data.begin());
  return out;
}

struct Case {
  std::string name;
  std::function<FloatImage(const FloatImage&)> op;
};

template <typename Op>
std::function<FloatImage(const FloatImage&)> InPlace(Op op) {
  return [op](const FloatImage& in) {
    FloatImage out = in;
    op(out);
    return out;
  };
}

TEST(ImageOpsTest, MatchesTorchvisionFunctionalOps) {
  const FloatImage image = RandomImage(3, 17, 23, 7);
  const std::vector<Case> cases = {
      {"brightness 1.3", InPlace([](FloatImage& x) { AdjustBrightness(x, 1.3f); })},
      {"brightness 0.45", InPlace([](FloatImage& x) { AdjustBrightness(x, 0.45f); })},
      {"contrast 0.6", InPlace([](FloatImage& x) { AdjustContrast(x, 0.6f); })},
      {"contrast 1.5", InPlace([](FloatImage& x) { AdjustContrast(x, 1.5f); })},
      {"contrast 1.7 one channel",
       [](const FloatImage& x) {
         FloatImage g = Channel0(x);
         AdjustContrast(g, 1.7f);
         return g;
       }},
      {"saturation 0.4", InPlace([](FloatImage& x) { AdjustSaturation(x, 0.4f); })},
      {"saturation 1.7", InPlace([](FloatImage& x) { AdjustSaturation(x, 1.7f); })},
      {"hue 0.15", InPlace([](FloatImage& x) { AdjustHue(x, 0.15f); })},
      {"hue -0.37", InPlace([](FloatImage& x) { AdjustHue(x, -0.37f); })},
      {"grayscale", InPlace([](FloatImage& x) { ToGrayscale(x); })},
      {"blur 5 1.3", InPlace([](FloatImage& x) { GaussianBlur(x, 5, 1.3); })},
      {"blur 3 0.4", InPlace([](FloatImage& x) { GaussianBlur(x, 3, 0.4); })},
      {"resized crop up",
       [](const FloatImage& x) { return ResizedCrop(x, 2, 3, 11, 15, 19, 21); }},
      {"resized crop down",
       [](const FloatImage& x) { return ResizedCrop(x, 1, 4, 14, 17, 7, 9); }},
      {"hflip", InPlace([](FloatImage& x) { FlipHorizontal(x); })},
  };

  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string in_path = dir + "/ops_in.bin";
  const std::string out_path = dir + "/ops_out.bin";
  {
    std::ofstream in(in_path, std::ios::binary);
    const int32_t dims[3] = {3, 17, 23};
    in.write(reinterpret_cast<const char*>(dims), sizeof(dims));
    in.write(reinterpret_cast<const char*>(image.data.data()),
             image.data.size() * sizeof(float));
  }
  const std::string command = "/usr/bin/python3 model/augment/testdata/ops_reference.py " +
                              in_path + " " + out_path;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  std::ifstream reference(out_path, std::ios::binary);
  ASSERT_TRUE(reference.good());
  for (const Case& c : cases) {
    const FloatImage mine = c.op(image);
    std::vector<float> theirs(mine.data.size());
    reference.read(reinterpret_cast<char*>(theirs.data()), theirs.size() * sizeof(float));
    ASSERT_TRUE(reference.good()) << c.name << ": reference output too short";
    float max_diff = 0.0f;
    for (size_t i = 0; i < theirs.size(); ++i) {
      max_diff = std::max(max_diff, std::abs(mine.data[i] - theirs[i]));
    }
    EXPECT_LT(max_diff, 2e-6f) << c.name;
  }
  // Every byte of the reference was consumed: the case lists line up.
  reference.peek();
  EXPECT_TRUE(reference.eof());
}

TEST(ImageOpsTest, GaussianKernelIsNormalisedSymmetricAndPeaked) {
  for (int k : {3, 5, 23}) {
    for (double sigma : {0.1, 0.7, 2.0}) {
      const std::vector<float> kernel = GaussianKernel1d(k, sigma);
      ASSERT_EQ(kernel.size(), static_cast<size_t>(k));
      EXPECT_NEAR(std::accumulate(kernel.begin(), kernel.end(), 0.0), 1.0, 1e-6);
      for (int i = 0; i < k; ++i) EXPECT_FLOAT_EQ(kernel[i], kernel[k - 1 - i]);
      EXPECT_GE(kernel[k / 2], kernel[0]);
      // float64 recomputation of the centre tap.
      double sum = 0.0;
      for (int i = 0; i < k; ++i) {
        const double x = (i - (k - 1) / 2.0) / sigma;
        sum += std::exp(-0.5 * x * x);
      }
      EXPECT_NEAR(kernel[k / 2], 1.0 / sum, 1e-7);
    }
  }
}

TEST(ImageOpsTest, BlurKeepsAConstantImageConstant) {
  FloatImage image(1, 5, 4);
  std::fill(image.data.begin(), image.data.end(), 0.625f);
  GaussianBlur(image, 23, 2.0);  // kernel wider than the image: reflect bounces
  for (float v : image.data) EXPECT_NEAR(v, 0.625f, 1e-6f);
}

TEST(ImageOpsTest, Uint8RoundTripIsExact) {
  std::vector<uint8_t> pixels(256);
  std::iota(pixels.begin(), pixels.end(), 0);
  const FloatImage image = FromUint8(pixels.data(), 1, 16, 16);
  EXPECT_FLOAT_EQ(image.data[255], 1.0f);
  EXPECT_EQ(ToUint8(image), pixels);
}

}  // namespace
}  // namespace simclr::model
