#include "model/nn/simclr_model.h"

#include <exception>
#include <utility>

#include <torch/nn/init.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace simclr::model {

SimclrModelImpl::SimclrModelImpl(const ModelOptions& options)
    : options_(options) {
  const absl::Status valid = ValidateModelOptions(options);
  TORCH_CHECK(valid.ok(), "invalid ModelOptions: ", valid.ToString());
  resnet_ = register_module("resnet", ResNet(options.resnet));
  head_ = register_module(
      "head", ProjectionHead(resnet_->num_features(), options.proj_head_layers,
                             options.proj_dim));
  if (options.num_classes > 0) {
    fc_ = register_module(
        "fc", torch::nn::Linear(head_->output_width(options.from_head_layer),
                                options.num_classes));
    torch::NoGradGuard no_grad;
    torch::nn::init::normal_(fc_->weight, 0.0, 0.01);
    torch::nn::init::zeros_(fc_->bias);
  }
}

SimclrModelImpl::Outputs SimclrModelImpl::forward(const torch::Tensor& x) {
  Outputs out;
  out.features = resnet_->forward(x);
  out.head_outputs = head_->forward(out.features);
  out.embedding = out.head_outputs.back();
  if (has_classifier()) {
    out.logits = fc_->forward(out.head_outputs[options_.from_head_layer]);
  }
  return out;
}

torch::Tensor SimclrModelImpl::Embedding(const torch::Tensor& x) {
  return head_->forward(resnet_->forward(x)).back();
}

torch::Tensor SimclrModelImpl::Logits(const torch::Tensor& x) {
  TORCH_CHECK(has_classifier(), "SimclrModel::Logits: model has no classifier "
                                "(num_classes = 0)");
  torch::Tensor h = resnet_->forward(x);
  if (options_.from_head_layer > 0) {
    // Runs the whole head; layers past from_head_layer cost little next to
    // the encoder and keep the head's BN statistics updated consistently.
    h = head_->forward(h)[options_.from_head_layer];
  }
  return fc_->forward(h);
}

torch::Tensor SimclrModelImpl::ClassifierLogits(
    const torch::Tensor& representation) {
  TORCH_CHECK(has_classifier(), "SimclrModel::ClassifierLogits: model has no "
                                "classifier (num_classes = 0)");
  return fc_->forward(representation);
}

std::vector<ParameterGroup> SimclrModelImpl::ParameterGroups() {
  std::vector<ParameterGroup> groups;
  auto add_part = [&groups](ModelPart part, torch::nn::Module& module,
                            const std::string& prefix) {
    ParameterGroup weights{part, true, {}, {}};
    ParameterGroup others{part, false, {}, {}};
    for (const auto& item : module.named_parameters(/*recurse=*/true)) {
      // Conv / linear weights have >= 2 dims; BN gammas/betas and biases 1.
      ParameterGroup& group = item.value().dim() >= 2 ? weights : others;
      group.names.push_back(absl::StrCat(prefix, item.key()));
      group.params.push_back(item.value());
    }
    if (!weights.params.empty()) groups.push_back(std::move(weights));
    if (!others.params.empty()) groups.push_back(std::move(others));
  };
  add_part(ModelPart::kEncoder, *resnet_, "resnet.");
  add_part(ModelPart::kHead, *head_, "head.");
  if (has_classifier()) add_part(ModelPart::kClassifier, *fc_, "fc.");
  return groups;
}

absl::StatusOr<SimclrModel> MakeSimclrModel(const ModelOptions& options) {
  if (absl::Status s = ValidateModelOptions(options); !s.ok()) return s;
  try {
    return SimclrModel(options);
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("building SimclrModel: ", e.what()));
  }
}

void UseChannelsLast(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  auto restride = [](torch::Tensor& t) {
    if (t.dim() != 4) return;
    torch::Tensor nhwc = torch::empty_like(t, t.options().memory_format(at::MemoryFormat::ChannelsLast));
    t.set_data(nhwc.copy_(t));
  };
  for (torch::Tensor& p : module.parameters(/*recurse=*/true)) restride(p);
  for (torch::Tensor& b : module.buffers(/*recurse=*/true)) restride(b);
}

}  // namespace simclr::model
