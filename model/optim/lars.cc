#include "model/optim/lars.h"

#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace simclr::model {
namespace {

absl::Status CheckNonNegative(const char* field, double value) {
  if (!std::isfinite(value) || value < 0.0) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is ", value, "; expected a finite value >= 0"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Lars>> Lars::Create(std::vector<ParamGroup> groups,
                                                   const LarsOptions& options) {
  RETURN_IF_ERROR(CheckNonNegative("eta", options.eta));
  RETURN_IF_ERROR(CheckNonNegative("weight_decay", options.weight_decay));
  std::unique_ptr<Lars> lars(new Lars(options));
  RETURN_IF_ERROR(lars->Init(std::move(groups), options.momentum));
  return lars;
}

torch::Tensor Lars::ScaledUpdate(const Slot& slot, const torch::Tensor& grad,
                                 double learning_rate) const {
  if (slot.exclude_from_adaptation) return grad * learning_rate;
  torch::Tensor g = grad;
  if (options_.weight_decay != 0.0) {
    g = g.add(slot.param, options_.weight_decay);
  }
  torch::Tensor w_norm = slot.param.norm();
  torch::Tensor g_norm = g.norm();
  torch::Tensor trust = torch::where(
      w_norm.gt(0).logical_and(g_norm.gt(0)),
      w_norm.div(g_norm).mul(options_.eta), torch::ones_like(w_norm));
  return g.mul(trust.mul(learning_rate));
}

absl::StatusOr<std::unique_ptr<MomentumSgd>> MomentumSgd::Create(
    std::vector<ParamGroup> groups, const MomentumSgdOptions& options) {
  RETURN_IF_ERROR(CheckNonNegative("weight_decay", options.weight_decay));
  std::unique_ptr<MomentumSgd> sgd(new MomentumSgd(options));
  RETURN_IF_ERROR(sgd->Init(std::move(groups), options.momentum, options.nesterov));
  return sgd;
}

torch::Tensor MomentumSgd::ScaledUpdate(const Slot& slot,
                                        const torch::Tensor& grad,
                                        double learning_rate) const {
  if (slot.exclude_from_adaptation || options_.weight_decay == 0.0) {
    return grad * learning_rate;
  }
  return grad.add(slot.param, options_.weight_decay).mul(learning_rate);
}

std::vector<ParamGroup> SplitParamsForLars(const torch::nn::Module& module) {
  std::vector<ParamGroup> groups(2);
  groups[1].exclude_from_adaptation = true;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    if (!item.value().requires_grad()) continue;
    ParamGroup& group = item.value().dim() >= 2 ? groups[0] : groups[1];
    group.names.push_back(item.key());
    group.params.push_back(item.value());
  }
  return groups;
}

}  // namespace simclr::model
