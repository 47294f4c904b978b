// libFuzzer target: the pickle inside a torch.save file (data.pkl), parsed by
// our own reader (model/checkpoint/pth_reader.h); storages are small zero
// tensors. Bar: no crash, no sanitizer report, no unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <string>

#include <torch/types.h>

#include "model/checkpoint/pth_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view pickle(reinterpret_cast<const char*>(data), size);
  auto load = [](const std::string&, torch::Dtype dtype,
                 int64_t numel) -> absl::StatusOr<torch::Tensor> {
    if (numel < 0 || numel > (1 << 16)) return absl::InvalidArgumentError("storage too large");
    return torch::zeros({numel}, torch::TensorOptions().dtype(dtype));
  };
  auto value = simclr::model::ParsePthPickle(pickle, load, "fuzz");
  if (value.ok()) simclr::model::FlattenTensorDict(*value, "").IgnoreError();
  return 0;
}
