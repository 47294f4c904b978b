// `simclr-model import`: converts a public SimCLRv2 PyTorch checkpoint into
// our checkpoint format (see simclrv2_import.h).
//
//   simclr-model import --from r50_1x_sk1.pth --to /ckpt/r50_1x_sk1
//       [--depth 50 --width_multiplier 1 --sk_ratio 0.0625]
//
// The architecture is inferred from the tensor shapes; the optional flags
// override it (a wrong override fails the strict name/shape check). Writes
// <to>/ckpt-0.simclr and prints its path and the architecture.
#ifndef SIMCLR_MODEL_CHECKPOINT_IMPORT_COMMAND_H_
#define SIMCLR_MODEL_CHECKPOINT_IMPORT_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace simclr::model {

// Runs `import` with the arguments after the subcommand name ("--flag value"
// or "--flag=value"). Returns 0 on success, 1 when the import fails, 2 for
// bad flags (the message names the flag), as the other simclr-model
// subcommands do.
int RunImport(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_CHECKPOINT_IMPORT_COMMAND_H_
