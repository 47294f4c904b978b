// Building a job's network, choosing which of its parameters train, and
// moving weights between jobs through checkpoints.
#ifndef SIMCLR_WORKER_TRAINING_MODEL_SETUP_H_
#define SIMCLR_WORKER_TRAINING_MODEL_SETUP_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/job_kinds.h"
#include "model/augment/simclr_augment.h"
#include "model/checkpoint/checkpoint.h"
#include "model/data/dataset.h"
#include "model/data/subset.h"
#include "model/nn/simclr_model.h"
#include "model/optim/optimizer.h"
#include "proto/simclr/v1/job.pb.h"

namespace simclr::worker {

// Where a job's classifier reads: finetune (Trainable::kUpToHeadLayer) from
// spec.finetune.from_head_layer, every other kind from the encoder output
// (layer 0). Pretraining trains its
// classifier on detached features only, to monitor representation quality
// (as the official SimCLR code's linear evaluation while pretraining).
int ClassifierLayer(const v1::JobSpec& spec);

// The network of `model` for images of `in_channels` x `image_size`, with a
// classifier over `num_classes` at ClassifierLayer(job).
model::ModelOptions ModelOptionsFor(const v1::ModelSpec& model, const v1::JobSpec& job,
                                    int64_t in_channels, int64_t image_size,
                                    int64_t num_classes);

// The parts of the network a job keeps fixed: they run in inference mode
// (batch norm uses its running statistics) and the optimiser never sees their
// parameters. The encoder is the stem (block 0) then the four ResNet stages
// (blocks 1-4).
struct Frozen {
  static constexpr int kWholeEncoder = 5;
  // The encoder's first `encoder_blocks` blocks: 0 none (the default), k in
  // 1..4 partial fine-tuning from stage k (finetune.from_block),
  // kWholeEncoder all of it (finetune.freeze_encoder, linear_eval), which
  // then also runs without gradients.
  int encoder_blocks = 0;
  bool head = false;  // the projection head too (linear_eval)
};

// What `spec` (of `kind`) keeps fixed.
Frozen FrozenParts(const JobKind& kind, const v1::JobSpec& spec);

// True for a parameter or module of a frozen encoder block, by its name in
// the SimclrModel ("resnet.net.2.…").
bool InFrozenEncoderBlock(const std::string& name, const Frozen& frozen);

// A training split without its validation set (data.validation_examples),
// and the validation set; both views of `split` (not owned).
struct TrainingSplit {
  std::unique_ptr<model::SubsetDataset> pool;        // what jobs may train on
  std::unique_ptr<model::SubsetDataset> validation;  // empty without a validation set
};

// About data.validation_examples images of `split`, class-balanced, drawn with
// kValidationSeed whatever the job's train.seed, so every job of a pipeline
// holds out the same ones.
inline constexpr uint64_t kValidationSeed = 0x76616c6964;  // "valid"
absl::StatusOr<TrainingSplit> CarveValidation(const model::Dataset* split,
                                              const v1::DataSpec& data);

// The examples a job trains on, out of `split` (not owned; must outlive the
// result), as its kind's Labels say (common/job_kinds.h): the labelled subset
// (data.label_fraction or label_index_file; train.seed draws it), every image,
// or every image with the labels of the labelled subset only (distillation;
// no label at all when distill.label_weight is 0).
absl::StatusOr<std::unique_ptr<model::Dataset>> TrainingExamples(const model::Dataset* split,
                                                                 const JobKind& kind,
                                                                 const v1::JobSpec& spec);

// The parameters a job trains, split for LARS: [0] conv/linear weights
// (adapted, decayed), [1] BN parameters and biases (excluded). Head layers
// past `head_layers_used` are left out (they are never run: a classifier at
// layer k runs the head up to k), and so are the `frozen` parts. The classifier's weight is adapted
// only when `adapt_classifier`: a classifier that is the job's objective
// starts near zero, and a trust ratio proportional to its tiny norm would keep
// it there (the official code excludes its supervised head likewise); the
// monitoring probe of pretraining shares the encoder's large learning rate
// and needs the trust ratio to stay stable.
std::vector<model::ParamGroup> TrainableParameters(model::SimclrModelImpl& model,
                                                   int head_layers_used, Frozen frozen,
                                                   bool adapt_classifier);

// The augmentation of a job's training images, as its kind and
// spec.train say (seeded by train.seed): pretraining's two SimCLR views
// (crop, flip, colour jitter of train.color_jitter_strength, grayscale, blur
// when train.blur, by default only above 32 pixels as the official code) or
// one view cropped and flipped; crops of at least train.crop_area_min.
model::AugmentOptions TrainingAugmentation(const JobKind& kind, const v1::JobSpec& spec,
                                           int64_t image_size);

// Whether a job's networks are stored channels_last unless its
// train.channels_last says (NOTE [channels last] in model/nn/simclr_model.h):
// on CPU whenever LibTorch has oneDNN, fp32 and bf16 alike; on CUDA for bf16,
// whose tensor-core kernels want NHWC.
bool PrefersChannelsLast(const torch::Device& device, bool bf16);

// Copies the encoder and projection head of the checkpoint at `path` into
// `model` (not its classifier: a child must not inherit a classifier trained
// on other labels). Errors name the file and the first bad tensor.
absl::Status LoadEncoderAndHead(const std::string& path, model::SimclrModelImpl& model);

// Copies the tensors named `prefix` + name of `checkpoint` (read from `path`)
// into `module`, strictly: every parameter and buffer present, none extra,
// shapes equal. Errors name `path` and the first bad tensor.
absl::Status ImportFromCheckpoint(const model::Checkpoint& checkpoint, const std::string& path,
                                  const std::string& prefix, torch::nn::Module& module);

// Builds the network that wrote the checkpoint at `path` (from its spec) and
// loads all of it, classifier included: a distillation teacher.
absl::StatusOr<model::SimclrModel> LoadWholeModel(const std::string& path, int64_t in_channels,
                                                  int64_t image_size, int64_t num_classes);

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_TRAINING_MODEL_SETUP_H_
