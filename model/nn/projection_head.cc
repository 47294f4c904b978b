#include "model/nn/projection_head.h"

#include <torch/nn/init.h>

namespace simclr::model {

ProjectionHeadImpl::ProjectionHeadImpl(int64_t in_features, int num_layers,
                                       int64_t proj_dim)
    : in_features_(in_features), proj_dim_(proj_dim) {
  TORCH_CHECK(in_features >= 1, "ProjectionHead: in_features must be >= 1, got ",
              in_features);
  TORCH_CHECK(num_layers >= 0, "ProjectionHead: num_layers must be >= 0, got ",
              num_layers);
  TORCH_CHECK(proj_dim >= 1, "ProjectionHead: proj_dim must be >= 1, got ",
              proj_dim);
  layers_ = register_module("layers", LayerSequence());
  for (int k = 1; k <= num_layers; ++k) {
    const bool last = k == num_layers;
    const int64_t out = last ? proj_dim : in_features;
    torch::nn::Linear linear(
        torch::nn::LinearOptions(in_features, out).bias(false));
    {
      torch::NoGradGuard no_grad;
      torch::nn::init::normal_(linear->weight, 0.0, 0.01);
    }
    BatchNormOptions bn_options;
    bn_options.num_features = out;
    bn_options.eps = 1e-5;
    bn_options.center = !last;
    BatchNorm bn(bn_options);
    layers_->Add(linear.ptr());
    layers_->Add(bn.ptr());
    // The ReLU takes a position in the port's ModuleList; the last layer has none.
    if (!last) {
      layers_->AddStateless(
          [](const torch::Tensor& x) { return torch::relu(x); });
    }
    linears_.push_back(linear);
    norms_.push_back(bn);
  }
}

std::vector<torch::Tensor> ProjectionHeadImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> outputs;
  outputs.reserve(linears_.size() + 1);
  outputs.push_back(x);
  for (size_t i = 0; i < linears_.size(); ++i) {
    torch::Tensor h = norms_[i]->forward(linears_[i]->forward(outputs.back()));
    if (i + 1 < linears_.size()) h = torch::relu(h);
    outputs.push_back(h);
  }
  return outputs;
}

int64_t ProjectionHeadImpl::output_width(int k) const {
  // forward()[0] is the input itself, also when there are no layers.
  return k == 0 || k < num_layers() ? in_features_ : proj_dim_;
}

}  // namespace simclr::model
