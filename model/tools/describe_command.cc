#include "model/tools/describe_command.h"

#include <cstdint>
#include <iomanip>
#include <limits>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "model/nn/describe.h"
#include "model/nn/options.h"

namespace simclr::model {
namespace {

enum class Format { kJson, kTable };

struct DescribeRequest {
  ModelOptions options;
  Format format = Format::kTable;
};

// The request of a command line, or the help text (CLI11 prints --help
// through an exception); InvalidArgument naming the flag.
absl::StatusOr<DescribeRequest> ParseRequest(const std::vector<std::string>& args,
                                             std::string* help) {
  DescribeRequest request;
  ModelOptions& o = request.options;
  std::string format = "table";
  CLI::App app("parameter counts and FLOPs of a model configuration", "simclr-model describe");
  app.add_option("--depth", o.resnet.depth, "18, 34, 50, 101 or 152")->capture_default_str();
  app.add_option("--width_multiplier", o.resnet.width_multiplier)->capture_default_str();
  app.add_option("--sk_ratio", o.resnet.sk_ratio, "0, or e.g. 0.0625")->capture_default_str();
  app.add_option("--image_size", o.resnet.image_size)->capture_default_str();
  app.add_option("--in_channels", o.resnet.in_channels)->capture_default_str();
  app.add_option("--proj_head_layers", o.proj_head_layers)->capture_default_str();
  app.add_option("--proj_dim", o.proj_dim)->capture_default_str();
  app.add_option("--num_classes", o.num_classes)->capture_default_str();
  app.add_option("--from_head_layer", o.from_head_layer)->capture_default_str();
  app.add_option("-o,--output", format, "json or table")->capture_default_str();
  try {
    app.parse(std::vector<std::string>(args.rbegin(), args.rend()));
  } catch (const CLI::CallForHelp&) {
    *help = app.help();
    return request;
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(e.what());
  }
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
  std::string help;
  absl::StatusOr<DescribeRequest> request = ParseRequest(args, &help);
  if (!request.ok()) {
    err << "simclr-model describe: " << request.status().message() << "\n";
    return kExitUsage;
  }
  if (!help.empty()) {
    out << help;
    return kExitOk;
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
