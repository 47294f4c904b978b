#include "model/distributed/all_gather.h"

#include <cstdint>
#include <vector>

#include <ATen/ops/cat.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include "model/distributed/collectives.h"

namespace simclr::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class AllGatherFunction : public torch::autograd::Function<AllGatherFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor local,
                               int64_t group_handle) {
    auto* group = reinterpret_cast<c10d::ProcessGroup*>(group_handle);
    ctx->saved_data["group"] = group_handle;
    ctx->saved_data["rows"] = local.size(0);
    return at::cat(AllGather(local, group), /*dim=*/0);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    auto* group = reinterpret_cast<c10d::ProcessGroup*>(
        ctx->saved_data["group"].toInt());
    const int64_t rows = ctx->saved_data["rows"].toInt();
    // Every rank's loss may depend on every rank's rows: sum the gradients
    // of the gathered tensor over ranks, then keep the rows that came from us.
    torch::Tensor summed = AllReduceSum(grad_outputs[0], group);
    const int64_t begin = rows * group->getRank();
    return {summed.slice(0, begin, begin + rows), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor AllGatherWithGrad(const torch::Tensor& local,
                                c10d::ProcessGroup* group) {
  if (group == nullptr || group->getSize() == 1) return local;
  TORCH_CHECK(local.dim() >= 1, "AllGatherWithGrad: expected at least 1-D");
  return AllGatherFunction::apply(local, reinterpret_cast<int64_t>(group));
}

}  // namespace simclr::model
