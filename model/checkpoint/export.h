// A trained SimCLRv2 network as a file PyTorch users take away: Python's
// torch.load opens it (it is written by torch::pickle_save, the format of
// torch.save), and its encoder loads into a torchvision-style ResNet with
// load_state_dict(strict=True).
//
// NOTE [export format]
// One dict:
//   "format":  "simclrv2-torchvision/1"
//   "config":  {"depth", "width_multiplier", "in_channels",
//               "small_input_stem" (a 3x3 stride-1 conv1 and no maxpool, as for
//               CIFAR-size images), "proj_head_layers", "proj_dim",
//               "num_classes", "from_head_layer"}
//   "encoder": torchvision's ResNet names: conv1, bn1, layer{1..4}.{j}.conv{1,2,3},
//              .bn{1,2,3}, .downsample.{0,1}. Differences from torchvision's own
//              constructor that a loader must make: the width (64 x
//              width_multiplier channels in conv1), the small-input stem, and,
//              for ResNet-18/34, layer1.0 has a downsample (1x1 conv + BN) as
//              the first block of every stage does in SimCLR's ResNet. No fc.
//   "head":    the projection head as torch.nn.Sequential indices: per layer
//              Linear(bias=False), BatchNorm1d, then ReLU except after the last
//              (whose BN has a zero bias here; it is trained without one).
//   "fc":      the classifier (weight, bias) if the network has one, else {}.
//              It reads the head's output after layer `from_head_layer`
//              (0: the encoder's features).
//   "check":   a probe to verify a port: "input" [2, C, S, S] and the network's
//              outputs on it in inference mode: "features", "embedding" (the
//              head's last output) and "logits" (if a classifier).
// Selective-kernel networks have no torchvision counterpart and are refused.
#ifndef SIMCLR_MODEL_CHECKPOINT_EXPORT_H_
#define SIMCLR_MODEL_CHECKPOINT_EXPORT_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "model/checkpoint/checkpoint_files.h"
#include "model/nn/simclr_model.h"

namespace simclr::model {

// torchvision's name of the encoder parameter or buffer `name` (a name of
// ResNetImpl's, e.g. "net.1.blocks.0.net.1.0.weight" -> "layer1.0.bn1.weight");
// nullopt for a name with no counterpart (selective kernels).
std::optional<std::string> TorchvisionName(const std::string& name, bool bottleneck);

// Writes `model` to `path` in the format above, atomically (a temporary file
// renamed over `path`). Runs the probe on the model's device in inference
// mode and restores its training mode afterwards. InvalidArgument for a
// selective-kernel model; Internal naming the path for I/O errors.
absl::Status ExportForPyTorch(SimclrModelImpl& model, const std::string& path);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_CHECKPOINT_EXPORT_H_
