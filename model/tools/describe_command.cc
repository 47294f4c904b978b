#include "model/tools/describe_command.h"

#include <cstdint>
#include <iomanip>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "model/nn/describe.h"
#include "model/nn/options.h"
#include "model/tools/flag_parser.h"

namespace simclr::model {
namespace {

enum class Format { kJson, kTable };

struct DescribeRequest {
  ModelOptions options;
  Format format = Format::kTable;
};

absl::StatusOr<int> GetSmallInt(const FlagParser& flags, const std::string& name,
                                int fallback) {
  ASSIGN_OR_RETURN(int64_t value, flags.GetInt(name, fallback));
  if (value < std::numeric_limits<int>::min() ||
      value > std::numeric_limits<int>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, ": got ", value, ", which is out of range"));
  }
  return static_cast<int>(value);
}

absl::StatusOr<DescribeRequest> ParseRequest(const std::vector<std::string>& args) {
  FlagParser flags({"depth", "width_multiplier", "sk_ratio", "image_size",
                    "in_channels", "proj_head_layers", "proj_dim", "num_classes",
                    "from_head_layer", "o", "output"});
  RETURN_IF_ERROR(flags.Parse(args));
  DescribeRequest request;
  ModelOptions& o = request.options;
  ASSIGN_OR_RETURN(o.resnet.depth, GetSmallInt(flags, "depth", o.resnet.depth));
  ASSIGN_OR_RETURN(o.resnet.width_multiplier,
                   flags.GetDouble("width_multiplier", o.resnet.width_multiplier));
  ASSIGN_OR_RETURN(o.resnet.sk_ratio, flags.GetDouble("sk_ratio", o.resnet.sk_ratio));
  ASSIGN_OR_RETURN(o.resnet.image_size,
                   flags.GetInt("image_size", o.resnet.image_size));
  ASSIGN_OR_RETURN(o.resnet.in_channels,
                   flags.GetInt("in_channels", o.resnet.in_channels));
  ASSIGN_OR_RETURN(o.proj_head_layers,
                   GetSmallInt(flags, "proj_head_layers", o.proj_head_layers));
  ASSIGN_OR_RETURN(o.proj_dim, flags.GetInt("proj_dim", o.proj_dim));
  ASSIGN_OR_RETURN(o.num_classes, flags.GetInt("num_classes", o.num_classes));
  ASSIGN_OR_RETURN(o.from_head_layer,
                   GetSmallInt(flags, "from_head_layer", o.from_head_layer));
  if (flags.Has("o") && flags.Has("output")) {
    return absl::InvalidArgumentError("-o and --output both given; use one");
  }
  const std::string format =
      flags.Has("o") ? flags.GetString("o", "") : flags.GetString("output", "table");
  if (format == "json") {
    request.format = Format::kJson;
  } else if (format != "table") {
    return absl::InvalidArgumentError(
        absl::StrCat("-o: got '", format, "', expected json or table"));
  }
  if (absl::Status s = ValidateModelOptions(o); !s.ok()) {
    // Option fields are named as the flags are.
    return absl::InvalidArgumentError(absl::StrCat("--", s.message()));
  }
  return request;
}

std::vector<std::pair<std::string, std::string>> Fields(const ModelOptions& o,
                                                        const ModelDescription& d) {
  return {
      {"depth", absl::StrCat(o.resnet.depth)},
      {"width_multiplier", absl::StrCat(o.resnet.width_multiplier)},
      {"sk_ratio", absl::StrCat(o.resnet.sk_ratio)},
      {"image_size", absl::StrCat(o.resnet.image_size)},
      {"in_channels", absl::StrCat(o.resnet.in_channels)},
      {"proj_head_layers", absl::StrCat(o.proj_head_layers)},
      {"proj_dim", absl::StrCat(o.proj_dim)},
      {"num_classes", absl::StrCat(o.num_classes)},
      {"from_head_layer", absl::StrCat(o.from_head_layer)},
      {"num_features", absl::StrCat(d.num_features)},
      {"encoder_params", absl::StrCat(d.encoder_params)},
      {"head_params", absl::StrCat(d.head_params)},
      {"classifier_params", absl::StrCat(d.classifier_params)},
      {"total_params", absl::StrCat(d.total_params)},
      {"encoder_macs_per_image", absl::StrCat(d.encoder_macs)},
      {"macs_per_image", absl::StrCat(d.macs_per_image)},
      {"flops_per_image", absl::StrCat(d.flops_per_image)},
  };
}

}  // namespace

int RunDescribe(const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err) {
  absl::StatusOr<DescribeRequest> request = ParseRequest(args);
  if (!request.ok()) {
    err << "simclr-model describe: " << request.status().message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<ModelDescription> d = DescribeModel(request->options);
  if (!d.ok()) {
    err << "simclr-model describe: " << d.status() << "\n";
    return kExitFailure;
  }
  const auto fields = Fields(request->options, *d);
  if (request->format == Format::kJson) {
    // Every value is a JSON number.
    out << "{";
    for (size_t i = 0; i < fields.size(); ++i) {
      out << (i ? ", " : "") << "\"" << fields[i].first << "\": " << fields[i].second;
    }
    out << "}\n";
  } else {
    for (const auto& [name, value] : fields) {
      out << absl::StrFormat("%-24s %s\n", name, value);
    }
    out << "# flops_per_image counts a multiply-add as 2 FLOPs\n";
  }
  return kExitOk;
}

}  // namespace simclr::model
