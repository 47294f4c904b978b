// Checks the encoder, head and SimclrModel against an independent PyTorch
// implementation (testdata/resnet_reference.py, run with /usr/bin/python3):
// the same weights on both sides, state_dict keys mapping 1:1 onto ours
// (NOTE [checkpoint names] in resnet.h), forward outputs within 1e-4, and
// DescribeModel's counts against the reference's hook-counted MACs.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "model/nn/describe.h"
#include "model/nn/options.h"
#include "model/nn/simclr_model.h"

namespace simclr::model {
namespace {

struct Config {
  std::string name;
  int depth;
  double width;
  double sk_ratio;
  int64_t in_channels;
  int64_t image_size;
  int head_layers;
  int64_t proj_dim;
};

// Must match CONFIGS in testdata/resnet_reference.py.
const std::vector<Config>& Configs() {
  static const auto* configs = new std::vector<Config>{
      {"r18_small", 18, 0.125, 0.0, 3, 32, 3, 16},
      {"r50_sk_small", 50, 0.125, 0.0625, 3, 32, 2, 8},
      {"r50_imagenet", 50, 0.125, 0.0, 1, 72, 1, 8},
      {"r34_sk_imagenet", 34, 0.25, 0.0625, 3, 72, 0, 8},
      {"r50_sk_imagenet_odd", 50, 0.125, 0.0625, 3, 75, 3, 8},
  };
  return *configs;
}

ModelOptions ToOptions(const Config& c) {
  ModelOptions o;
  o.resnet.depth = c.depth;
  o.resnet.width_multiplier = c.width;
  o.resnet.sk_ratio = c.sk_ratio;
  o.resnet.in_channels = c.in_channels;
  o.resnet.image_size = c.image_size;
  o.proj_head_layers = c.head_layers;
  o.proj_dim = c.proj_dim;
  return o;
}

struct Reference {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  std::map<std::string, torch::Tensor> by_key;
  int64_t encoder_params = 0;
  int64_t encoder_macs = 0;
  int64_t head_params = 0;
};

Reference LoadReference(const std::string& dir) {
  Reference ref;
  std::ifstream manifest(dir + "/manifest.txt");
  std::ifstream data(dir + "/tensors.bin", std::ios::binary);
  EXPECT_TRUE(manifest.good() && data.good()) << dir;
  std::string line;
  while (std::getline(manifest, line)) {
    std::istringstream fields(line);
    std::string key;
    int64_t ndim = 0;
    fields >> key >> ndim;
    std::vector<int64_t> shape(ndim);
    for (int64_t& s : shape) fields >> s;
    torch::Tensor t = torch::empty(shape, torch::kFloat32);
    data.read(reinterpret_cast<char*>(t.data_ptr<float>()),
              static_cast<std::streamsize>(t.numel() * sizeof(float)));
    EXPECT_TRUE(data.good()) << "short tensors.bin at " << key;
    ref.tensors.emplace_back(key, t);
    ref.by_key[key] = t;
  }
  std::ifstream meta(dir + "/meta.txt");
  meta >> ref.encoder_params >> ref.encoder_macs >> ref.head_params;
  return ref;
}

class ResNetReferenceTest : public ::testing::TestWithParam<Config> {
 protected:
  static void SetUpTestSuite() {
    out_dir_ = new std::string(absl::StrCat(std::getenv("TEST_TMPDIR"), "/ref"));
    const std::string script =
        absl::StrCat(std::getenv("TEST_SRCDIR"), "/",
                     std::getenv("TEST_WORKSPACE"),
                     "/model/nn/testdata/resnet_reference.py");
    const std::string command =
        absl::StrCat("/usr/bin/python3 ", script, " ", *out_dir_);
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  static std::string* out_dir_;
};
std::string* ResNetReferenceTest::out_dir_ = nullptr;

// Max |a - b| over max(1, max |b|): a relative error for large activations.
double ScaledMaxError(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = std::max(1.0, b.abs().max().item<double>());
  return (a - b).abs().max().item<double>() / scale;
}

TEST_P(ResNetReferenceTest, WeightsMapOneToOneAndOutputsMatchPyTorch) {
  torch::manual_seed(0);
  torch::set_num_threads(1);
  const Config& config = GetParam();
  const Reference ref = LoadReference(absl::StrCat(*out_dir_, "/", config.name));
  ASSERT_FALSE(ref.tensors.empty());

  absl::StatusOr<SimclrModel> made = MakeSimclrModel(ToOptions(config));
  ASSERT_TRUE(made.ok()) << made.status();
  SimclrModel model = *made;

  std::map<std::string, torch::Tensor> ours;
  for (const auto& p : model->named_parameters()) ours[p.key()] = p.value();
  for (const auto& b : model->named_buffers()) ours[b.key()] = b.value();

  // The head's last BN has no beta here; the port keeps a zero one.
  const std::string untrained_beta =
      config.head_layers > 0
          ? absl::StrCat("head.layers.", 3 * (config.head_layers - 1) + 1, ".bias")
          : "";
  std::set<std::string> loaded;
  {
    torch::NoGradGuard no_grad;
    for (const auto& [key, value] : ref.tensors) {
      std::string name;
      if (absl::StartsWith(key, "resnet/")) {
        name = absl::StrCat("resnet.", key.substr(7));
      } else if (absl::StartsWith(key, "head/")) {
        name = absl::StrCat("head.", key.substr(5));
      } else {
        continue;
      }
      auto it = ours.find(name);
      if (it == ours.end()) {
        EXPECT_EQ(name, untrained_beta) << "reference key has no counterpart";
        EXPECT_EQ(value.abs().max().item<float>(), 0.0f) << name;
        continue;
      }
      ASSERT_EQ(it->second.sizes(), value.sizes()) << name;
      it->second.copy_(value);
      loaded.insert(name);
    }
  }
  for (const auto& [name, tensor] : ours) {
    EXPECT_TRUE(loaded.count(name)) << "not in the reference: " << name;
  }

  const torch::Tensor input = ref.by_key.at("input");
  torch::NoGradGuard no_grad;
  model->eval();
  SimclrModelImpl::Outputs out = model->forward(input);
  EXPECT_LT(ScaledMaxError(out.features, ref.by_key.at("features_eval")), 1e-4);
  EXPECT_LT(ScaledMaxError(out.embedding, ref.by_key.at("head_eval")), 1e-4);

  model->train();
  torch::Tensor train_features = model->encoder()->forward(input);
  EXPECT_LT(ScaledMaxError(train_features, ref.by_key.at("features_train")), 1e-4);
  // Train-mode BN normalises with batch statistics: a different answer.
  EXPECT_GT((train_features - out.features).abs().max().item<double>(), 1e-3);

  absl::StatusOr<ModelDescription> d = DescribeModel(ToOptions(config));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->encoder_params, ref.encoder_params);
  EXPECT_EQ(d->encoder_macs, ref.encoder_macs);
  EXPECT_EQ(d->head_params, ref.head_params);
}

INSTANTIATE_TEST_SUITE_P(
    Configs, ResNetReferenceTest, ::testing::ValuesIn(Configs()),
    [](const ::testing::TestParamInfo<Config>& info) { return info.param.name; });

}  // namespace
}  // namespace simclr::model
