#include "model/checkpoint/simclrv2_import.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <set>
#include <utility>
#include <vector>

#include <c10/core/GradMode.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/match.h"
#include "common/status_macros.h"
#include "model/checkpoint/checkpoint.h"

namespace simclr::model {
namespace {

// SimCLRv2's only published selective-kernel ratio.
constexpr double kPublicSkRatio = 0.0625;
// Stem-shape stand-ins for ResNetOptions::image_size.
constexpr int64_t kImageNetSize = 224;
constexpr int64_t kSmallInputSize = 32;

using TensorMap = std::map<std::string, torch::Tensor>;

absl::Status Invalid(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("not a SimCLRv2 checkpoint: ", what));
}

absl::StatusOr<TensorMap> TensorsOf(const PthValue& pth, const std::string& key,
                                    bool required) {
  const PthValue* dict = pth.Find(key);
  if (dict == nullptr) {
    if (required) return Invalid(absl::StrCat("no '", key, "' entry"));
    return TensorMap{};
  }
  ASSIGN_OR_RETURN(auto flat, FlattenTensorDict(*dict, ""));
  TensorMap out;
  for (auto& [name, t] : flat) out.emplace(std::move(name), std::move(t));
  return out;
}

// The tensor `name` with `rank` dims, or InvalidArgument naming it.
absl::StatusOr<torch::Tensor> Get(const TensorMap& m, const std::string& dict,
                                  const std::string& name, int64_t rank) {
  auto it = m.find(name);
  if (it == m.end()) return Invalid(absl::StrCat("'", dict, "' has no '", name, "'"));
  if (it->second.dim() != rank) {
    return Invalid(absl::StrCat("'", dict, "'['", name, "'] has ", it->second.dim(),
                                " dims, expected ", rank));
  }
  return it->second;
}

int DepthFor(const std::vector<int>& blocks, bool bottleneck) {
  const std::vector<std::pair<int, std::vector<int>>> kTable =
      bottleneck ? std::vector<std::pair<int, std::vector<int>>>{{50, {3, 4, 6, 3}},
                                                                 {101, {3, 4, 23, 3}},
                                                                 {152, {3, 8, 36, 3}}}
                 : std::vector<std::pair<int, std::vector<int>>>{{18, {2, 2, 2, 2}},
                                                                 {34, {3, 4, 6, 3}}};
  for (const auto& [depth, counts] : kTable) {
    if (counts == blocks) return depth;
  }
  return 0;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrCat("\\u00", c < 0x10 ? "0" : "", absl::Hex(static_cast<int>(c)));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

absl::Status MakeDirs(const std::string& dir) {
  std::string path;
  for (absl::string_view part : absl::StrSplit(dir, '/')) {
    path += std::string(part);
    if (!path.empty() && ::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::InternalError(absl::StrCat("creating ", path, ": ", std::strerror(errno)));
    }
    path += "/";
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ModelOptions> InferSimclrV2Options(const PthValue& pth) {
  ASSIGN_OR_RETURN(TensorMap resnet, TensorsOf(pth, "resnet", /*required=*/true));
  ASSIGN_OR_RETURN(TensorMap head, TensorsOf(pth, "head", /*required=*/false));
  ModelOptions options;
  ResNetOptions& r = options.resnet;

  ASSIGN_OR_RETURN(torch::Tensor first, Get(resnet, "resnet", "net.0.0.weight", 4));
  r.in_channels = first.size(1);
  int64_t stem_channels = first.size(0);
  if (first.size(2) == 7) {
    r.image_size = kImageNetSize;
  } else if (resnet.count("net.0.4.weight") > 0) {  // the 3-conv (SK) stem
    ASSIGN_OR_RETURN(torch::Tensor third, Get(resnet, "resnet", "net.0.4.weight", 4));
    stem_channels = third.size(0);
    r.image_size = kImageNetSize;
  } else {
    r.image_size = kSmallInputSize;
  }
  r.width_multiplier = static_cast<double>(stem_channels) / 64.0;
  r.sk_ratio =
      resnet.count("net.1.blocks.0.projection.shortcut.2.weight") > 0 ? kPublicSkRatio : 0.0;

  // net.<stage>.blocks.<j>.* -> blocks per stage 1..4.
  std::vector<int> blocks(4, 0);
  for (const auto& [name, t] : resnet) {
    std::vector<std::string> parts = absl::StrSplit(name, '.');
    int stage = 0, j = 0;
    if (parts.size() > 3 && parts[0] == "net" && parts[2] == "blocks" &&
        absl::SimpleAtoi(parts[1], &stage) && absl::SimpleAtoi(parts[3], &j) && stage >= 1 &&
        stage <= 4 && j >= 0 && j < 1000) {
      blocks[stage - 1] = std::max(blocks[stage - 1], j + 1);
    }
  }
  ASSIGN_OR_RETURN(torch::Tensor block_conv, Get(resnet, "resnet", "net.1.blocks.0.net.0.weight", 4));
  const bool bottleneck = block_conv.size(2) == 1;
  r.depth = DepthFor(blocks, bottleneck);
  if (r.depth == 0) {
    return Invalid(absl::StrCat("blocks per stage ", blocks[0], ",", blocks[1], ",", blocks[2],
                                ",", blocks[3], bottleneck ? " (bottleneck)" : " (basic)",
                                " match no ResNet depth"));
  }

  if (resnet.count("fc.weight") > 0) {
    ASSIGN_OR_RETURN(torch::Tensor fc, Get(resnet, "resnet", "fc.weight", 2));
    options.num_classes = fc.size(0);
    options.from_head_layer = 0;
  }
  int layers = 0;
  while (head.count(absl::StrCat("layers.", 3 * layers, ".weight")) > 0) {
    ASSIGN_OR_RETURN(torch::Tensor w,
                     Get(head, "head", absl::StrCat("layers.", 3 * layers, ".weight"), 2));
    options.proj_dim = w.size(0);
    ++layers;
  }
  options.proj_head_layers = layers;
  return options;
}

absl::StatusOr<TensorMap> SimclrV2ModelState(const PthValue& pth,
                                             const torch::nn::Module& model) {
  ASSIGN_OR_RETURN(TensorMap resnet, TensorsOf(pth, "resnet", /*required=*/true));
  ASSIGN_OR_RETURN(TensorMap head, TensorsOf(pth, "head", /*required=*/false));
  std::set<std::string> model_names;
  for (const auto& item : model.named_parameters(true)) model_names.insert(item.key());
  for (const auto& item : model.named_buffers(true)) model_names.insert(item.key());

  TensorMap state;
  for (auto& [name, t] : resnet) {
    if (absl::StartsWith(name, "net.")) {
      state.emplace("resnet." + name, t);
    } else if (absl::StartsWith(name, "fc.")) {
      state.emplace(name, t);
    } else {
      return Invalid(absl::StrCat("unexpected key 'resnet'['", name, "']"));
    }
  }
  for (auto& [name, t] : head) {
    const std::string ours = "head." + name;
    if (absl::EndsWith(name, ".bias") && model_names.count(ours) == 0) {
      // The port's beta-free last BN still stores a (zero) beta.
      if (t.count_nonzero().item<int64_t>() != 0) {
        return Invalid(absl::StrCat("'head'['", name,
                                    "'] is non-zero but the model's layer has no bias"));
      }
      continue;
    }
    state.emplace(ours, t);
  }
  return state;
}

absl::Status ImportSimclrV2(const PthValue& pth, SimclrModelImpl* model) {
  try {
    ASSIGN_OR_RETURN(TensorMap state, SimclrV2ModelState(pth, *model));
    ImportOptions options;
    options.strict = true;
    absl::StatusOr<ImportReport> report = ImportModuleState(state, options, model);
    if (!report.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("importing SimCLRv2 weights: ", report.status().message()));
    }
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("importing SimCLRv2 weights: ", e.what()));
  }
}

std::string ModelOptionsJson(const ModelOptions& o, const std::string& source) {
  return absl::StrCat(
      "{\"source\":", JsonString(source), ",\"depth\":", o.resnet.depth,
      ",\"width_multiplier\":", o.resnet.width_multiplier, ",\"sk_ratio\":", o.resnet.sk_ratio,
      ",\"in_channels\":", o.resnet.in_channels, ",\"image_size\":", o.resnet.image_size,
      ",\"proj_head_layers\":", o.proj_head_layers, ",\"proj_dim\":", o.proj_dim,
      ",\"num_classes\":", o.num_classes, ",\"from_head_layer\":", o.from_head_layer, "}");
}

absl::StatusOr<std::string> ImportSimclrV2File(const std::string& pth_path,
                                               const std::string& out_dir,
                                               const SimclrV2ImportFlags& flags,
                                               ModelOptions* options_out) {
  ASSIGN_OR_RETURN(PthValue pth, ReadPth(pth_path));
  absl::StatusOr<ModelOptions> inferred = InferSimclrV2Options(pth);
  if (!inferred.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(pth_path, ": ", inferred.status().message()));
  }
  ModelOptions options = *inferred;
  if (flags.depth) options.resnet.depth = *flags.depth;
  if (flags.width_multiplier) options.resnet.width_multiplier = *flags.width_multiplier;
  if (flags.sk_ratio) options.resnet.sk_ratio = *flags.sk_ratio;
  ASSIGN_OR_RETURN(SimclrModel model, MakeSimclrModel(options));
  absl::Status imported = ImportSimclrV2(pth, model.get());
  if (!imported.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(pth_path, ": ", imported.message()));
  }
  Checkpoint checkpoint;
  checkpoint.metadata = ModelOptionsJson(options, pth_path);
  RETURN_IF_ERROR(ExportModuleState(*model, kModelPrefix, &checkpoint));
  RETURN_IF_ERROR(MakeDirs(out_dir));
  const std::string path = absl::StrCat(out_dir, "/", CheckpointFileName(0));
  RETURN_IF_ERROR(SaveCheckpoint(path, checkpoint));
  if (options_out != nullptr) *options_out = options;
  return path;
}

}  // namespace simclr::model
