#include "model/distributed/collectives.h"

#include <exception>
#include <string>
#include <vector>

#include <ATen/record_function.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

namespace simclr::model {
namespace {

// Waits for `work`; rethrows its failure as a c10::Error that names `what`.
void WaitOrThrow(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    TORCH_CHECK(false, what, " failed: ", e.what());
  }
}

}  // namespace

void AllReduceSumInPlace(torch::Tensor& tensor, c10d::ProcessGroup* group) {
  TORCH_CHECK(group != nullptr, "AllReduceSumInPlace: no process group");
  TORCH_CHECK(tensor.is_contiguous(),
              "AllReduceSumInPlace: tensor must be contiguous");
  RECORD_USER_SCOPE("c10d::allreduce");
  std::vector<at::Tensor> tensors = {tensor};
  WaitOrThrow(group->allreduce(tensors), "allreduce");
}

torch::Tensor AllReduceSum(const torch::Tensor& tensor,
                           c10d::ProcessGroup* group) {
  torch::Tensor result = tensor.detach().clone(at::MemoryFormat::Contiguous);
  AllReduceSumInPlace(result, group);
  return result;
}

std::vector<torch::Tensor> AllGather(const torch::Tensor& tensor,
                                     c10d::ProcessGroup* group) {
  TORCH_CHECK(group != nullptr, "AllGather: no process group");
  RECORD_USER_SCOPE("c10d::allgather");
  torch::Tensor input = tensor.detach().contiguous();
  std::vector<at::Tensor> inputs = {input};
  std::vector<std::vector<at::Tensor>> outputs(1);
  outputs[0].reserve(group->getSize());
  for (int r = 0; r < group->getSize(); ++r) {
    outputs[0].push_back(torch::empty_like(input));
  }
  WaitOrThrow(group->allgather(outputs, inputs), "allgather");
  return outputs[0];
}

}  // namespace simclr::model
