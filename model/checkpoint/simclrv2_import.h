// Imports the public converted SimCLRv2 checkpoints (PyTorch files saved as
// torch.save({'resnet': state_dict, 'head': state_dict}), encoder keys `net.*`
// and `fc.*`, head keys `layers.*`) into a SimclrModel and into our own
// checkpoint format.
//
// The mapping is name for name (NOTE [checkpoint names] in model/nn/resnet.h):
//   resnet["net.*"] -> "resnet.net.*",  resnet["fc.*"] -> "fc.*",
//   head["layers.*"] -> "head.layers.*".
// The one exception: the port's last head BN has a beta that is always zero
// and ours has none, so a head `.bias` the model lacks is dropped after
// checking that it is all zeros. Every other name and every shape must match.
//
//   ASSIGN_OR_RETURN(PthValue pth, ReadPth(path));
//   ASSIGN_OR_RETURN(ModelOptions options, InferSimclrV2Options(pth));
//   ASSIGN_OR_RETURN(SimclrModel model, MakeSimclrModel(options));
//   RETURN_IF_ERROR(ImportSimclrV2(pth, model.get()));
#ifndef SIMCLR_MODEL_CHECKPOINT_SIMCLRV2_IMPORT_H_
#define SIMCLR_MODEL_CHECKPOINT_SIMCLRV2_IMPORT_H_

#include <map>
#include <optional>
#include <string>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/checkpoint/checkpoint.h"
#include "model/checkpoint/pth_reader.h"
#include "model/nn/options.h"
#include "model/nn/simclr_model.h"

namespace simclr::model {

// Reads the architecture from the tensor shapes of a converted checkpoint:
// depth (block counts per stage; bottleneck vs basic), width multiplier (stem
// channels / 64), selective kernels (the 3-conv stem; sk_ratio 0.0625 as in
// every public SK model), input channels, ImageNet vs small-input stem,
// head layers and proj_dim, and the classifier (fc: num_classes, reading the
// encoder output). InvalidArgument naming the key when the file does not have
// the expected layout.
absl::StatusOr<ModelOptions> InferSimclrV2Options(const PthValue& pth);

// The pth's tensors under SimclrModel names (see the mapping above), without
// the head bias the model lacks. `model` decides which head biases to drop.
absl::StatusOr<std::map<std::string, torch::Tensor>> SimclrV2ModelState(
    const PthValue& pth, const torch::nn::Module& model);

// Copies a converted checkpoint into `model` (strict: every parameter and
// buffer present, no extra keys, equal shapes). On error `model` is unchanged.
absl::Status ImportSimclrV2(const PthValue& pth, SimclrModelImpl* model);

// Overrides for `simclr-model import` flags; unset fields are inferred.
struct SimclrV2ImportFlags {
  std::optional<int> depth;
  std::optional<double> width_multiplier;
  std::optional<double> sk_ratio;
};

// Reads `pth_path`, infers (or takes from `flags`) the architecture, imports
// it into a fresh SimclrModel and writes `<out_dir>/ckpt-0.simclr` with the
// model's tensors under kModelPrefix and, as metadata, a JSON object of the
// model options. Creates `out_dir` if needed. Returns the checkpoint path and,
// if `options_out` is not null, stores the architecture used there.
absl::StatusOr<std::string> ImportSimclrV2File(const std::string& pth_path,
                                               const std::string& out_dir,
                                               const SimclrV2ImportFlags& flags,
                                               ModelOptions* options_out = nullptr);

// The JSON metadata ImportSimclrV2File writes, e.g.
// {"source":"r50_1x_sk1.pth","depth":50,"width_multiplier":1,"sk_ratio":0.0625,...}
std::string ModelOptionsJson(const ModelOptions& options, const std::string& source);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_CHECKPOINT_SIMCLRV2_IMPORT_H_
