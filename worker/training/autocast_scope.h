// Runs a forward pass under bfloat16 autocast for the scope's lifetime.
#ifndef SIMCLR_WORKER_TRAINING_AUTOCAST_SCOPE_H_
#define SIMCLR_WORKER_TRAINING_AUTOCAST_SCOPE_H_

#include <ATen/autocast_mode.h>
#include <torch/types.h>

namespace simclr::worker {

// Autocast state is thread-local: construct it on the thread that runs the
// ops. `enabled` false makes it a no-op. Not copyable.
//
//   { AutocastScope autocast(bf16, device); logits = model->Logits(x); }
class AutocastScope {
 public:
  AutocastScope(bool enabled, const torch::Device& device)
      : enabled_(enabled), cuda_(device.is_cuda()) {
    if (!enabled_) return;
    if (cuda_) {
      at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
      at::autocast::set_enabled(true);
    } else {
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
      at::autocast::set_cpu_enabled(true);
    }
  }

  ~AutocastScope() {
    if (!enabled_) return;
    if (cuda_) {
      at::autocast::set_enabled(false);
    } else {
      at::autocast::set_cpu_enabled(false);
    }
    at::autocast::clear_cache();
  }

  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  const bool enabled_;
  const bool cuda_;
};

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_TRAINING_AUTOCAST_SCOPE_H_
