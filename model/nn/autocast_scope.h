// Runs the ops of a scope under bfloat16 autocast.
#ifndef SIMCLR_MODEL_NN_AUTOCAST_SCOPE_H_
#define SIMCLR_MODEL_NN_AUTOCAST_SCOPE_H_

#include <ATen/autocast_mode.h>
#include <torch/types.h>
#include <torch/version.h>

namespace simclr::model {

// Enables autocast to bfloat16 on the device's type for the scope's lifetime
// and restores the state it found on exit. Leaving the outermost enabled
// scope clears the cache of cast weights, so that the next step casts the
// updated weights. Autocast state is thread-local: construct it on the thread
// that runs the ops. `enabled` false makes it a no-op. Scopes nest (like
// torch.autocast); not copyable.
//
//   { AutocastScope autocast(bf16, device); logits = model->Logits(x); }
class AutocastScope {
 public:
  AutocastScope(bool enabled, const torch::Device& device)
      : enabled_(enabled), device_(device.type()) {
    if (!enabled_) return;
    was_enabled_ = IsEnabled();
    previous_dtype_ = Dtype();
    Set(true, at::kBFloat16);
    at::autocast::increment_nesting();
  }

  ~AutocastScope() {
    if (!enabled_) return;
    Set(was_enabled_, previous_dtype_);
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  }

  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  // LibTorch 2.4 made autocast's switches per device type; before it, CUDA
  // and CPU had their own.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  bool IsEnabled() const { return at::autocast::is_autocast_enabled(device_); }
  at::ScalarType Dtype() const { return at::autocast::get_autocast_dtype(device_); }
  void Set(bool on, at::ScalarType dtype) {
    at::autocast::set_autocast_enabled(device_, on);
    at::autocast::set_autocast_dtype(device_, dtype);
  }
#else
  bool IsEnabled() const {
    return device_ == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
  }
  at::ScalarType Dtype() const {
    return device_ == torch::kCUDA ? at::autocast::get_autocast_gpu_dtype()
                                   : at::autocast::get_autocast_cpu_dtype();
  }
  void Set(bool on, at::ScalarType dtype) {
    if (device_ == torch::kCUDA) {
      at::autocast::set_enabled(on);
      at::autocast::set_autocast_gpu_dtype(dtype);
    } else {
      at::autocast::set_cpu_enabled(on);
      at::autocast::set_autocast_cpu_dtype(dtype);
    }
  }
#endif

  const bool enabled_;
  const torch::DeviceType device_;
  bool was_enabled_ = false;  // the state found on entry, restored on exit
  at::ScalarType previous_dtype_ = at::kBFloat16;
};

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_NN_AUTOCAST_SCOPE_H_
