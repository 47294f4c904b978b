// `simclr-model describe`: parameter counts and per-image forward cost of a
// SimCLRv2 model, computed analytically (model/nn/describe.h).
//
//   simclr-model describe --depth 50 --width_multiplier 2 --sk_ratio 0.0625 -o json
//
// Flags: --depth (50) --width_multiplier (1) --sk_ratio (0) --image_size (224)
// --in_channels (3) --proj_head_layers (3) --proj_dim (128) --num_classes (0)
// --from_head_layer (0) -o / --output json|table (table).
// Output fields: encoder_params, head_params, classifier_params, total_params,
// num_features, encoder_macs_per_image, macs_per_image, flops_per_image
// (a multiply-add counts as 2 FLOPs).
#ifndef SIMCLR_MODEL_TOOLS_DESCRIBE_COMMAND_H_
#define SIMCLR_MODEL_TOOLS_DESCRIBE_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace simclr::model {

// Exit statuses shared by simclr-model subcommands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;  // bad flags or values; message names the flag

// Runs `describe` with the arguments after the subcommand name; writes the
// result to `out` and errors to `err`. Returns an exit status.
int RunDescribe(const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_TOOLS_DESCRIBE_COMMAND_H_
