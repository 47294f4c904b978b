#include "model/checkpoint/export.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include <torch/serialize.h>
#include <torch/torch.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "model/checkpoint/checkpoint_files.h"

namespace simclr::model {
namespace {

constexpr char kFormat[] = "simclrv2-torchvision/1";

using TensorDict = c10::Dict<std::string, torch::Tensor>;

// "X" of a BNR ("<i>.0.X", NOTE [checkpoint names] in model/nn/resnet.h)
// when `rest` is one; "" otherwise.
std::string BnrField(const std::vector<std::string>& rest, size_t at) {
  if (rest.size() == at + 3 && rest[at + 1] == "0") return rest[at + 2];
  return "";
}

// Detached CPU copies of the parameters and buffers of `module`, by name.
std::vector<std::pair<std::string, torch::Tensor>> StateOf(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> state;
  for (const auto& item : module.named_parameters(true)) {
    state.emplace_back(item.key(), item.value().detach().to(torch::kCPU).clone());
  }
  for (const auto& item : module.named_buffers(true)) {
    state.emplace_back(item.key(), item.value().detach().to(torch::kCPU).clone());
  }
  return state;
}

c10::impl::GenericDict GenericDict() {
  return c10::impl::GenericDict(c10::StringType::get(), c10::AnyType::get());
}

}  // namespace

std::optional<std::string> TorchvisionName(const std::string& name, bool bottleneck) {
  const std::vector<std::string> p = absl::StrSplit(name, '.');
  if (p.size() < 3 || p[0] != "net") return std::nullopt;
  if (p[1] == "0") {  // the stem: conv, BNR (a maxpool has no parameters)
    if (p.size() == 4 && p[2] == "0" && p[3] == "weight") return std::string("conv1.weight");
    const std::string bn = BnrField(p, 2);
    if (p[2] == "1" && !bn.empty()) return absl::StrCat("bn1.", bn);
    return std::nullopt;  // the selective-kernel stem
  }
  int stage = 0, block = 0;
  if (p.size() < 6 || !absl::SimpleAtoi(p[1], &stage) || stage < 1 || stage > 4 ||
      p[2] != "blocks" || !absl::SimpleAtoi(p[3], &block)) {
    return std::nullopt;
  }
  const std::string prefix = absl::StrCat("layer", stage, ".", block, ".");
  if (p[4] == "projection") {
    if (p.size() == 7 && p[5] == "shortcut") return absl::StrCat(prefix, "downsample.0.", p[6]);
    const std::string bn = BnrField(p, 5);
    if (p[5] == "bn" && !bn.empty()) return absl::StrCat(prefix, "downsample.1.", bn);
    return std::nullopt;
  }
  if (p[4] != "net") return std::nullopt;
  // Bottleneck: conv1x1, BNR, conv3x3, BNR, conv1x1, BNR; basic: conv, BNR, conv, BNR.
  const int layers = bottleneck ? 3 : 2;
  int index = 0;
  if (!absl::SimpleAtoi(p[5], &index) || index < 0 || index >= 2 * layers) return std::nullopt;
  const int layer = index / 2 + 1;
  if (index % 2 == 0) {
    if (p.size() == 7 && p[6] == "weight") return absl::StrCat(prefix, "conv", layer, ".weight");
    return std::nullopt;
  }
  const std::string bn = BnrField(p, 5);
  if (bn.empty()) return std::nullopt;
  return absl::StrCat(prefix, "bn", layer, ".", bn);
}

absl::Status ExportForPyTorch(SimclrModelImpl& model, const std::string& path) {
  const ModelOptions& options = model.options();
  if (options.resnet.sk_ratio > 0) {
    return absl::InvalidArgumentError(
        "model.sk_ratio: selective-kernel networks have no torchvision counterpart; expected 0");
  }
  const bool bottleneck = UsesBottleneck(options.resnet.depth);
  try {
    TensorDict encoder;
    for (auto& [name, tensor] : StateOf(*model.encoder())) {
      std::optional<std::string> theirs = TorchvisionName(name, bottleneck);
      if (!theirs) {
        return absl::InternalError(absl::StrCat("encoder tensor ", name, " has no torchvision name"));
      }
      encoder.insert(*theirs, tensor);
    }
    // The head as nn.Sequential indices ("layers.3.weight" -> "3.weight"); the
    // last BN, trained without a bias, gets a zero one.
    TensorDict head;
    std::set<std::string> names;
    for (auto& [name, tensor] : StateOf(*model.head())) {
      std::string index = name.substr(name.find('.') + 1);
      names.insert(index);
      head.insert(index, tensor);
    }
    if (options.proj_head_layers > 0) {
      const int last_bn = 3 * (options.proj_head_layers - 1) + 1;
      const std::string bias = absl::StrCat(last_bn, ".bias");
      if (names.count(bias) == 0) {
        head.insert(bias, torch::zeros({options.proj_dim}));
      }
    }
    TensorDict fc;
    if (model.has_classifier()) {
      for (auto& [name, tensor] : StateOf(*model.classifier())) fc.insert(name, tensor);
    }

    c10::impl::GenericDict config = GenericDict();
    config.insert("depth", static_cast<int64_t>(options.resnet.depth));
    config.insert("width_multiplier", options.resnet.width_multiplier);
    config.insert("in_channels", options.resnet.in_channels);
    config.insert("small_input_stem", options.resnet.image_size <= kSmallInputMaxSize);
    config.insert("proj_head_layers", static_cast<int64_t>(options.proj_head_layers));
    config.insert("proj_dim", options.proj_dim);
    config.insert("num_classes", options.num_classes);
    config.insert("from_head_layer", static_cast<int64_t>(options.from_head_layer));

    // The probe: two fixed images, smooth enough that every layer sees signal.
    const int64_t size = std::min<int64_t>(options.resnet.image_size, 64);
    const int64_t n = 2 * options.resnet.in_channels * size * size;
    torch::Tensor input =
        torch::arange(n, torch::kFloat32).mul(0.37).sin().reshape({2, options.resnet.in_channels,
                                                                   size, size});
    const bool was_training = model.is_training();
    model.eval();
    SimclrModelImpl::Outputs outputs;
    {
      torch::NoGradGuard no_grad;
      const torch::Device device = model.parameters().front().device();
      outputs = model.forward(input.to(device));
    }
    model.train(was_training);
    c10::impl::GenericDict check = GenericDict();
    check.insert("input", input);
    check.insert("features", outputs.features.to(torch::kCPU));
    check.insert("embedding", outputs.embedding.to(torch::kCPU));
    if (outputs.logits.defined()) check.insert("logits", outputs.logits.to(torch::kCPU));

    c10::impl::GenericDict exported = GenericDict();
    exported.insert("format", std::string(kFormat));
    exported.insert("config", config);
    exported.insert("encoder", encoder);
    exported.insert("head", head);
    exported.insert("fc", fc);
    exported.insert("check", check);
    const std::vector<char> bytes = torch::pickle_save(exported);
    return WriteFileAtomically(path, std::string(bytes.begin(), bytes.end()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("exporting the model to ", path, ": ", e.what()));
  }
}

}  // namespace simclr::model
