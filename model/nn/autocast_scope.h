// Runs the ops of a scope under bfloat16 autocast.
#ifndef SIMCLR_MODEL_NN_AUTOCAST_SCOPE_H_
#define SIMCLR_MODEL_NN_AUTOCAST_SCOPE_H_

#include <ATen/autocast_mode.h>
#include <torch/types.h>
#include <torch/version.h>

namespace simclr::model {

// Enables autocast to bfloat16 on the device's type for the scope's lifetime
// and clears the cache of cast weights on exit, so that the next step casts
// the updated weights. Autocast state is thread-local: construct it on the
// thread that runs the ops. `enabled` false makes it a no-op. Not copyable.
//
//   { AutocastScope autocast(bf16, device); logits = model->Logits(x); }
class AutocastScope {
 public:
  AutocastScope(bool enabled, const torch::Device& device)
      : enabled_(enabled), device_(device.type()) {
    if (enabled_) Set(true);
  }

  ~AutocastScope() {
    if (!enabled_) return;
    Set(false);
    at::autocast::clear_cache();
  }

  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  // LibTorch 2.4 made autocast's switches per device type; before it, CUDA
  // and CPU had their own.
  void Set(bool on) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(device_, on);
    if (on) at::autocast::set_autocast_dtype(device_, at::kBFloat16);
#else
    if (device_ == torch::kCUDA) {
      at::autocast::set_enabled(on);
      if (on) at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    } else {
      at::autocast::set_cpu_enabled(on);
      if (on) at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    }
#endif
  }

  const bool enabled_;
  const torch::DeviceType device_;
};

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_NN_AUTOCAST_SCOPE_H_
