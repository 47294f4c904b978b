// LayerSequence: an ordered container that names its children by position,
// the way torch.nn.Sequential and torch.nn.ModuleList do, so that parameter
// names line up with PyTorch state_dicts (see NOTE [checkpoint names] in
// resnet.h).
#ifndef SIMCLR_MODEL_NN_LAYER_SEQUENCE_H_
#define SIMCLR_MODEL_NN_LAYER_SEQUENCE_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace simclr::model {

// Runs its steps in order. A stateful step (a module with parameters or
// buffers) is registered under its position ("0", "1", ...); a stateless step
// (ReLU, pooling, padding) occupies a position but registers nothing, exactly
// as a parameterless module in torch.nn.Sequential contributes no state_dict
// keys. Not thread-safe (like any Module).
//
//   LayerSequence seq;
//   seq->Add(torch::nn::Conv2d(...).ptr());              // "0.weight"
//   seq->AddStateless([](const torch::Tensor& x) { return x.relu(); });
class LayerSequenceImpl : public torch::nn::Module {
 public:
  using Step = std::function<torch::Tensor(const torch::Tensor&)>;

  // Registers `module` under the next position and runs its forward(x).
  template <typename ModuleType>
  std::shared_ptr<ModuleType> Add(std::shared_ptr<ModuleType> module) {
    register_module(std::to_string(steps_.size()), module);
    ModuleType* raw = module.get();  // owned through the registration above
    steps_.push_back([raw](const torch::Tensor& x) { return raw->forward(x); });
    return module;
  }

  // Takes the next position without registering anything.
  void AddStateless(Step step) { steps_.push_back(std::move(step)); }

  torch::Tensor forward(const torch::Tensor& input) {
    torch::Tensor x = input;
    for (const Step& step : steps_) x = step(x);
    return x;
  }

  size_t size() const { return steps_.size(); }

 private:
  std::vector<Step> steps_;
};

TORCH_MODULE(LayerSequence);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_NN_LAYER_SEQUENCE_H_
