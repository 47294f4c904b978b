#include "model/distributed/batch_norm.h"

#include <ATen/ops/batch_norm.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include "model/distributed/sync_batch_norm.h"

namespace simclr::model {

BatchNormImpl::BatchNormImpl(const BatchNormOptions& options)
    : options_(options) {
  TORCH_CHECK(options.num_features > 0,
              "BatchNormOptions.num_features must be positive, got ",
              options.num_features);
  const int64_t c = options.num_features;
  weight = register_parameter(
      "weight", options.zero_init_gamma ? torch::zeros({c}) : torch::ones({c}));
  if (options.center) bias = register_parameter("bias", torch::zeros({c}));
  running_mean = register_buffer("running_mean", torch::zeros({c}));
  running_var = register_buffer("running_var", torch::ones({c}));
  num_batches_tracked = register_buffer(
      "num_batches_tracked", torch::zeros({}, torch::dtype(torch::kLong)));
}

torch::Tensor BatchNormImpl::forward(const torch::Tensor& input) {
  TORCH_CHECK(input.dim() == 2 || input.dim() == 4,
              "BatchNorm expects [N, C] or [N, C, H, W] input, got ",
              input.sizes());
  TORCH_CHECK(input.size(1) == options_.num_features, "BatchNorm(",
              options_.num_features, ") got ", input.size(1), " channels");
  if (!is_training()) {
    return at::batch_norm(input, weight, bias, running_mean, running_var,
                          /*training=*/false, options_.momentum, options_.eps,
                          /*cudnn_enabled=*/true);
  }
  {
    torch::NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
  if (group_ == nullptr || group_->getSize() == 1) {
    return at::batch_norm(input, weight, bias, running_mean, running_var,
                          /*training=*/true, options_.momentum, options_.eps,
                          /*cudnn_enabled=*/true);
  }
  return SyncBatchNormTrain(input, weight, bias, running_mean, running_var,
                            options_.momentum, options_.eps, group_);
}

void SetBatchNormProcessGroup(torch::nn::Module& root,
                              c10d::ProcessGroup* group) {
  root.apply([group](torch::nn::Module& module) {
    if (auto* bn = dynamic_cast<BatchNormImpl*>(&module)) {
      bn->set_process_group(group);
    }
  });
}

}  // namespace simclr::model
