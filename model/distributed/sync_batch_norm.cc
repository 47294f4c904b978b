#include "model/distributed/sync_batch_norm.h"

#include <cstdint>
#include <tuple>
#include <vector>

#include <ATen/ops/batch_norm_update_stats.h>
#include <ATen/ops/native_batch_norm_backward.h>
#include <ATen/record_function.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include "model/distributed/collectives.h"

namespace simclr::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Reduced-precision inputs are normalised in float32, as torch::batch_norm
// does under autocast.
torch::Tensor ToComputeType(const torch::Tensor& t) {
  const auto type = t.scalar_type();
  if (type == torch::kHalf || type == torch::kBFloat16) {
    return t.to(torch::kFloat);
  }
  return t;
}

// Shape that broadcasts a [C] tensor against `input`: [1, C, 1, ...].
std::vector<int64_t> ChannelShape(const torch::Tensor& input) {
  std::vector<int64_t> shape(input.dim(), 1);
  shape[1] = input.size(1);
  return shape;
}

// See NOTE [global batch norm] in sync_batch_norm.h.
class SyncBatchNormFunction
    : public torch::autograd::Function<SyncBatchNormFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor input,
                               torch::Tensor weight, torch::Tensor bias,
                               torch::Tensor running_mean,
                               torch::Tensor running_var, double momentum,
                               double eps, int64_t group_handle) {
    RECORD_USER_SCOPE("global_batch_norm");
    // Placeholders for absent tensors: see SyncBatchNormTrain.
    const bool has_bias = bias.numel() > 0;
    const bool has_running_mean = running_mean.numel() > 0;
    const bool has_running_var = running_var.numel() > 0;
    auto* group = reinterpret_cast<c10d::ProcessGroup*>(group_handle);
    const int64_t channels = input.size(1);
    const int64_t local_count = channels == 0 ? 0 : input.numel() / channels;
    const torch::Tensor x = ToComputeType(input);

    // [S1 | S2 | n] in float64; see the NOTE for why not raw sums of x^2.
    // The local mean and biased variance come from LibTorch's batch norm
    // statistics kernel (one vectorised pass over x; a generic var_mean over
    // dims {0, 2, 3} took 3-4x longer).
    torch::Tensor stats = torch::zeros(
        {2 * channels + 1}, input.options().dtype(torch::kDouble));
    if (local_count > 0) {
      auto [mean, var] = at::batch_norm_update_stats(x, c10::nullopt, c10::nullopt,
                                                     /*momentum=*/0.0);
      const torch::Tensor mean64 = mean.to(torch::kDouble);
      const torch::Tensor m2 = var.to(torch::kDouble) * local_count;
      stats.slice(0, 0, channels).copy_(mean64 * local_count);
      stats.slice(0, channels, 2 * channels)
          .copy_(m2 + mean64 * mean64 * local_count);
    }
    stats[2 * channels].fill_(static_cast<double>(local_count));
    AllReduceSumInPlace(stats, group);

    const double count = stats[2 * channels].item<double>();
    TORCH_CHECK(count > 1,
                "Expected more than 1 value per channel over the global batch "
                "when training, got input size ",
                input.sizes(), " on this rank and ", count, " in total");
    const torch::Tensor mean64 = stats.slice(0, 0, channels) / count;
    const torch::Tensor var64 =
        (stats.slice(0, channels, 2 * channels) / count - mean64 * mean64)
            .clamp_min(0.0);
    const torch::Tensor invstd64 = (var64 + eps).rsqrt();

    {
      torch::NoGradGuard no_grad;
      if (has_running_mean) {
        running_mean.mul_(1.0 - momentum)
            .add_(mean64.to(running_mean.scalar_type()), momentum);
      }
      if (has_running_var) {
        running_var.mul_(1.0 - momentum)
            .add_((var64 * (count / (count - 1.0)))
                      .to(running_var.scalar_type()),
                  momentum);
      }
    }

    const auto shape = ChannelShape(input);
    const torch::Tensor mean = mean64.to(x.scalar_type());
    const torch::Tensor invstd = invstd64.to(x.scalar_type());
    torch::Tensor scale = weight.to(x.scalar_type()) * invstd;
    torch::Tensor shift = -mean * scale;
    if (has_bias) shift = shift + bias.to(x.scalar_type());
    torch::Tensor output =
        torch::addcmul(shift.view(shape), x, scale.view(shape));

    ctx->save_for_backward({input, weight, mean, invstd});
    ctx->saved_data["group"] = group_handle;
    ctx->saved_data["count"] = count;
    ctx->saved_data["has_bias"] = has_bias;
    return output.to(input.scalar_type());
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    RECORD_USER_SCOPE("global_batch_norm_backward");
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& input = saved[0];
    const torch::Tensor& weight = saved[1];
    const torch::Tensor& mean = saved[2];
    const torch::Tensor& invstd = saved[3];
    auto* group = reinterpret_cast<c10d::ProcessGroup*>(
        ctx->saved_data["group"].toInt());
    const double count = ctx->saved_data["count"].toDouble();
    const bool has_bias = ctx->saved_data["has_bias"].toBool();

    const int64_t channels = input.size(1);
    const auto shape = ChannelShape(input);
    const torch::Tensor x = ToComputeType(input);
    const torch::Tensor dy = grad_outputs[0].to(x.scalar_type());
    const torch::Tensor w = weight.to(x.scalar_type());

    // G1 = sum dy and G2 = sum dy * xhat over this rank, in one pass: they
    // are batch norm's beta and gamma gradients, which LibTorch's backward
    // computes from the statistics it is given as the saved ones (here the
    // global mean and invstd; eps is then unused). Only those two are asked
    // for (grad_input_mask {false, true, true}), on CPU and CUDA alike.
    torch::Tensor local_dy = torch::zeros({channels}, x.options());
    torch::Tensor local_dy_xhat = torch::zeros({channels}, x.options());
    if (x.numel() > 0) {
      std::tie(std::ignore, local_dy_xhat, local_dy) = at::native_batch_norm_backward(
          dy, x, w, /*running_mean=*/c10::nullopt, /*running_var=*/c10::nullopt, mean, invstd,
          /*train=*/true, /*eps=*/0.0, {false, true, true});
    }

    // [G1 | G2] summed over ranks, in float64.
    torch::Tensor sums = torch::cat({local_dy, local_dy_xhat}).to(torch::kDouble);
    AllReduceSumInPlace(sums, group);
    const torch::Tensor mean_dy = sums.slice(0, 0, channels) / count;
    const torch::Tensor mean_dy_xhat = sums.slice(0, channels, 2 * channels) / count;

    // dx = a (dy - G1/n - xhat G2/n) with a = gamma invstd is affine in dy
    // and x per channel: dx = a dy + b x + c, two passes over the activations.
    const torch::Tensor invstd64 = invstd.to(torch::kDouble);
    const torch::Tensor a64 = weight.to(torch::kDouble) * invstd64;
    const torch::Tensor b64 = -a64 * invstd64 * mean_dy_xhat;
    const torch::Tensor c64 = -a64 * mean_dy - b64 * mean.to(torch::kDouble);
    torch::Tensor grad_input =
        torch::addcmul(c64.to(x.scalar_type()).view(shape), x, b64.to(x.scalar_type()).view(shape));
    grad_input.addcmul_(dy, a64.to(x.scalar_type()).view(shape));

    return {grad_input.to(input.scalar_type()),
            local_dy_xhat.to(weight.scalar_type()),
            has_bias ? local_dy.to(weight.scalar_type()) : torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor SyncBatchNormTrain(const torch::Tensor& input,
                                 const torch::Tensor& weight,
                                 const torch::Tensor& bias,
                                 const torch::Tensor& running_mean,
                                 const torch::Tensor& running_var,
                                 double momentum, double eps,
                                 c10d::ProcessGroup* group) {
  TORCH_CHECK(group != nullptr, "SyncBatchNormTrain: no process group");
  TORCH_CHECK(input.dim() >= 2,
              "SyncBatchNormTrain: expected [N, C] or [N, C, *] input, got ",
              input.sizes());
  TORCH_CHECK(weight.defined() && weight.dim() == 1 &&
                  weight.size(0) == input.size(1),
              "SyncBatchNormTrain: weight must be [", input.size(1), "]");
  TORCH_CHECK(!bias.defined() || bias.sizes() == weight.sizes(),
              "SyncBatchNormTrain: bias must be [", input.size(1), "]");
  // Function::apply cannot take undefined tensors: absent optional tensors
  // travel as empty placeholders and are recognised by numel() == 0.
  const auto placeholder = [&](const torch::Tensor& t) {
    return t.defined() ? t : torch::empty({0}, weight.options());
  };
  return SyncBatchNormFunction::apply(
      input, weight, placeholder(bias), placeholder(running_mean),
      placeholder(running_var), momentum, eps,
      reinterpret_cast<int64_t>(group));
}

}  // namespace simclr::model
