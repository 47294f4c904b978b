#include "model/optim/optimizer.h"

#include <cmath>
#include <exception>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace simclr::model {
namespace {

constexpr char kMomentumPrefix[] = "momentum/";

std::string ShapeString(const torch::Tensor& t) {
  return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]");
}

}  // namespace

absl::Status MomentumBufferOptimizer::Init(std::vector<ParamGroup> groups,
                                           double momentum, bool nesterov) {
  if (!std::isfinite(momentum) || momentum < 0.0 || momentum >= 1.0) {
    return absl::InvalidArgumentError(
        absl::StrCat("momentum is ", momentum, "; expected a value in [0, 1)"));
  }
  momentum_ = momentum;
  nesterov_ = nesterov;
  std::set<std::string> seen;
  for (size_t g = 0; g < groups.size(); ++g) {
    ParamGroup& group = groups[g];
    if (group.names.empty()) {
      for (size_t i = 0; i < group.params.size(); ++i) {
        group.names.push_back(absl::StrCat("group", g, "/", i));
      }
    }
    if (group.names.size() != group.params.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "param group ", g, " has ", group.names.size(), " names for ",
          group.params.size(), " params"));
    }
    for (size_t i = 0; i < group.params.size(); ++i) {
      const std::string& name = group.names[i];
      const torch::Tensor& p = group.params[i];
      if (!seen.insert(name).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("parameter name \"", name, "\" appears twice"));
      }
      if (!p.defined() || !p.is_floating_point()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "parameter \"", name, "\" is undefined or not floating point"));
      }
      torch::NoGradGuard no_grad;
      slots_.push_back(Slot{name, p, torch::zeros_like(p),
                            group.exclude_from_adaptation});
    }
  }
  groups_ = std::move(groups);
  return absl::OkStatus();
}

absl::Status MomentumBufferOptimizer::Step(double learning_rate) {
  if (!std::isfinite(learning_rate) || learning_rate < 0.0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "learning_rate is ", learning_rate, "; expected a finite value >= 0"));
  }
  torch::NoGradGuard no_grad;
  for (Slot& slot : slots_) {
    const torch::Tensor& grad = slot.param.grad();
    if (!grad.defined()) continue;
    try {
      torch::Tensor update = ScaledUpdate(slot, grad, learning_rate);
      slot.momentum.mul_(momentum_).add_(update);
      if (nesterov_) {
        slot.param.sub_(update).sub_(slot.momentum, momentum_);
      } else {
        slot.param.sub_(slot.momentum);
      }
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat(
          "optimizer step failed on parameter \"", slot.name, "\": ", e.what()));
    }
  }
  return absl::OkStatus();
}

void MomentumBufferOptimizer::ZeroGrad() {
  // Zeroed in place under NoGradGuard rather than detach_()ed: gradients may
  // be views (e.g. of gradient-allreduce buckets), which cannot be detached in
  // place.
  torch::NoGradGuard no_grad;
  for (Slot& slot : slots_) {
    const torch::Tensor& grad = slot.param.grad();
    if (grad.defined()) grad.zero_();
  }
}

OptimizerState MomentumBufferOptimizer::StateDict() const {
  OptimizerState state;
  for (const Slot& slot : slots_) {
    state.emplace(kMomentumPrefix + slot.name, slot.momentum.detach().clone());
  }
  return state;
}

absl::Status MomentumBufferOptimizer::LoadStateDict(const OptimizerState& state) {
  // Check everything before touching any buffer.
  for (const Slot& slot : slots_) {
    const std::string key = kMomentumPrefix + slot.name;
    auto it = state.find(key);
    if (it == state.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("optimizer state lacks \"", key, "\""));
    }
    if (!it->second.defined() || it->second.sizes() != slot.momentum.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "optimizer state \"", key, "\" has shape ",
          it->second.defined() ? ShapeString(it->second) : "undefined",
          "; expected ", ShapeString(slot.momentum)));
    }
  }
  if (state.size() != slots_.size()) {
    std::set<std::string> known;
    for (const Slot& slot : slots_) known.insert(kMomentumPrefix + slot.name);
    for (const auto& [key, unused] : state) {
      if (known.count(key) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("optimizer state has unknown tensor \"", key, "\""));
      }
    }
  }
  torch::NoGradGuard no_grad;
  for (Slot& slot : slots_) {
    slot.momentum.copy_(state.at(kMomentumPrefix + slot.name));
  }
  return absl::OkStatus();
}

}  // namespace simclr::model
