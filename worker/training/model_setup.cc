#include "worker/training/model_setup.h"

#include <map>

#include <ATen/Context.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/checkpoint/checkpoint.h"
#include "model/data/subset.h"

namespace simclr::worker {
namespace {

constexpr char kHeadLayersPrefix[] = "head.layers.";

// The 1-based head layer that owns parameter `name`, or 0 for parameters
// outside the head (NOTE in model/nn/projection_head.h: layer k owns entries
// 3(k-1) and 3(k-1)+1 of `layers`).
int HeadLayerOf(const std::string& name) {
  if (name.rfind(kHeadLayersPrefix, 0) != 0) return 0;
  const std::string rest = name.substr(sizeof(kHeadLayersPrefix) - 1);
  int index = 0;
  if (!absl::SimpleAtoi(rest.substr(0, rest.find('.')), &index)) return 0;
  return index / 3 + 1;
}

}  // namespace

int ClassifierLayer(const v1::JobSpec& spec) {
  const JobKind* kind = FindJobKind(spec.kind());
  return kind != nullptr && kind->trainable == Trainable::kUpToHeadLayer
             ? spec.finetune().from_head_layer()
             : 0;
}

Frozen FrozenParts(const JobKind& kind, const v1::JobSpec& spec) {
  Frozen frozen;
  if (kind.trainable == Trainable::kClassifierOnly) {
    frozen.encoder_blocks = Frozen::kWholeEncoder;
    frozen.head = true;
  } else if (kind.trainable == Trainable::kUpToHeadLayer) {
    frozen.encoder_blocks =
        spec.finetune().freeze_encoder() ? Frozen::kWholeEncoder : spec.finetune().from_block();
  }
  return frozen;
}

bool InFrozenEncoderBlock(const std::string& name, const Frozen& frozen) {
  if (frozen.encoder_blocks == Frozen::kWholeEncoder) return name.rfind("resnet.", 0) == 0;
  // Encoder blocks are "resnet.net.<block>" (model/nn/resnet.h).
  constexpr char kPrefix[] = "resnet.net.";
  if (name.rfind(kPrefix, 0) != 0) return false;
  int block = 0;
  const std::string rest = name.substr(sizeof(kPrefix) - 1);
  return absl::SimpleAtoi(rest.substr(0, rest.find('.')), &block) &&
         block < frozen.encoder_blocks;
}

absl::StatusOr<TrainingSplit> CarveValidation(const model::Dataset* split,
                                              const v1::DataSpec& data) {
  TrainingSplit parts;
  std::vector<int64_t> validation;
  if (data.validation_examples() > 0) {
    if (data.validation_examples() >= split->size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "data.validation_examples: got ", data.validation_examples(), ", expected fewer than the ",
          split->size(), " training images"));
    }
    const double fraction =
        static_cast<double>(data.validation_examples()) / static_cast<double>(split->size());
    ASSIGN_OR_RETURN(validation, model::ClassBalancedIndices(*split, fraction, kValidationSeed));
  }
  std::vector<int64_t> pool;
  pool.reserve(static_cast<size_t>(split->size()) - validation.size());
  size_t next = 0;  // validation is ascending
  for (int64_t i = 0; i < split->size(); ++i) {
    if (next < validation.size() && validation[next] == i) {
      ++next;
    } else {
      pool.push_back(i);
    }
  }
  parts.pool = std::make_unique<model::SubsetDataset>(split, std::move(pool));
  parts.validation = std::make_unique<model::SubsetDataset>(split, std::move(validation));
  return parts;
}

absl::StatusOr<std::unique_ptr<model::Dataset>> TrainingExamples(const model::Dataset* split,
                                                                 const JobKind& kind,
                                                                 const v1::JobSpec& spec) {
  model::SubsetOptions labelled;
  labelled.fraction = spec.data().has_label_fraction() ? spec.data().label_fraction() : 0.0;
  labelled.index_file = spec.data().label_index_file();
  labelled.seed = static_cast<uint64_t>(spec.train().seed());
  switch (kind.labels) {
    case Labels::kTrainingSet: {
      ASSIGN_OR_RETURN(std::unique_ptr<model::SubsetDataset> subset,
                       model::MakeSubset(split, labelled));
      return std::unique_ptr<model::Dataset>(std::move(subset));
    }
    case Labels::kLabelLossOnly: {
      std::vector<int64_t> indices;  // none: no label is read
      if (spec.distill().label_weight() > 0) {
        ASSIGN_OR_RETURN(indices, model::SelectIndices(*split, labelled));
      }
      return std::unique_ptr<model::Dataset>(
          std::make_unique<model::PartiallyLabelledDataset>(split, indices));
    }
    case Labels::kNone:
      break;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<model::SubsetDataset> all,
                   model::MakeSubset(split, model::SubsetOptions()));
  return std::unique_ptr<model::Dataset>(std::move(all));
}

model::ModelOptions ModelOptionsFor(const v1::ModelSpec& m, const v1::JobSpec& job,
                                    int64_t in_channels, int64_t image_size,
                                    int64_t num_classes) {
  model::ModelOptions options;
  options.resnet.depth = m.depth();
  options.resnet.width_multiplier = m.width_multiplier();
  options.resnet.sk_ratio = m.sk_ratio();
  options.resnet.in_channels = in_channels;
  options.resnet.image_size = image_size;
  options.proj_head_layers = m.proj_head_layers();
  options.proj_dim = m.proj_dim();
  options.num_classes = num_classes;
  options.from_head_layer = ClassifierLayer(job);
  return options;
}

std::vector<model::ParamGroup> TrainableParameters(model::SimclrModelImpl& model,
                                                   int head_layers_used, Frozen frozen,
                                                   bool adapt_classifier) {
  model::ParamGroup weights;
  model::ParamGroup excluded;
  excluded.exclude_from_adaptation = true;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    const bool in_classifier = name.rfind("fc.", 0) == 0;
    if (frozen.head && name.rfind("head.", 0) == 0) continue;
    if (InFrozenEncoderBlock(name, frozen)) continue;
    if (HeadLayerOf(name) > head_layers_used) continue;
    const bool adapted = item.value().dim() >= 2 && (!in_classifier || adapt_classifier);
    model::ParamGroup& group = adapted ? weights : excluded;
    group.names.push_back(name);
    group.params.push_back(item.value());
  }
  return {weights, excluded};
}

model::AugmentOptions TrainingAugmentation(const JobKind& kind, const v1::JobSpec& spec,
                                           int64_t image_size) {
  const v1::TrainSpec& train = spec.train();
  model::AugmentOptions augment;
  augment.mode = kind.contrastive_views ? model::AugmentMode::kPretrain
                                        : model::AugmentMode::kFinetune;
  augment.seed = static_cast<uint64_t>(train.seed());
  augment.output_height = image_size;
  augment.output_width = image_size;
  if (train.has_crop_area_min()) augment.crop_area_min = train.crop_area_min();
  if (train.has_color_jitter_strength()) augment.jitter_strength = train.color_jitter_strength();
  // The official code blurs ImageNet, not CIFAR-10 (job.proto).
  const bool blur = train.has_blur() ? train.blur() : image_size > 32;
  if (!blur) augment.blur_probability = 0.0;
  return augment;
}

bool PrefersChannelsLast(const torch::Device& device, bool bf16) {
  return device.is_cpu() ? at::hasMKLDNN() : bf16;
}

absl::Status LoadEncoderAndHead(const std::string& path, model::SimclrModelImpl& model) {
  ASSIGN_OR_RETURN(model::Checkpoint checkpoint, model::LoadCheckpoint(path));
  RETURN_IF_ERROR(ImportFromCheckpoint(checkpoint, path, "model.resnet.", *model.encoder()));
  return ImportFromCheckpoint(checkpoint, path, "model.head.", *model.head());
}

absl::StatusOr<model::SimclrModel> LoadWholeModel(const std::string& path, int64_t in_channels,
                                                  int64_t image_size, int64_t num_classes) {
  ASSIGN_OR_RETURN(model::Checkpoint checkpoint, model::LoadCheckpoint(path));
  v1::JobSpec spec;
  if (!spec.ParseFromString(checkpoint.metadata)) {
    return absl::DataLossError(absl::StrCat(path, ": the checkpoint's job spec does not parse"));
  }
  ASSIGN_OR_RETURN(model::SimclrModel net,
                   model::MakeSimclrModel(ModelOptionsFor(spec.model(), spec, in_channels,
                                                          image_size, num_classes)));
  RETURN_IF_ERROR(ImportFromCheckpoint(checkpoint, path, model::kModelPrefix, *net));
  return net;
}

absl::Status ImportFromCheckpoint(const model::Checkpoint& checkpoint, const std::string& path,
                                  const std::string& prefix, torch::nn::Module& module) {
  model::ImportOptions options;
  options.prefix = prefix;
  options.strict = true;
  absl::StatusOr<model::ImportReport> report =
      model::ImportModuleState(checkpoint.tensors, options, &module);
  if (!report.ok()) {
    return absl::Status(report.status().code(), absl::StrCat(path, ": ", report.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace simclr::worker
