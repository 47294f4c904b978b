#include "worker/training/evaluate.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/augment/simclr_augment.h"
#include "model/distributed/collectives.h"
#include "model/nn/autocast_scope.h"

namespace simclr::worker {

absl::StatusOr<Accuracy> Evaluate(model::SimclrModelImpl& model, const model::Dataset& test,
                                  const EvaluateOptions& options, c10d::ProcessGroup* group) {
  model::AugmentOptions eval;
  eval.mode = model::AugmentMode::kEval;
  eval.output_height = options.image_size;
  eval.output_width = options.image_size;
  ASSIGN_OR_RETURN(std::unique_ptr<model::SimclrAugmenter> transform,
                   model::SimclrAugmenter::Create(eval));
  const int64_t n = options.max_examples > 0 ? std::min(options.max_examples, test.size())
                                             : test.size();
  const int64_t k = std::min<int64_t>(5, test.num_classes());
  double counts[3] = {0, 0, 0};  // top-1 hits, top-5 hits, examples
  try {
    torch::NoGradGuard no_grad;
    model.eval();
    std::vector<torch::Tensor> images;
    std::vector<int64_t> labels;
    auto flush = [&]() {
      if (images.empty()) return;
      torch::Tensor x = torch::stack(images).to(options.device);
      torch::Tensor y = torch::tensor(labels, torch::kInt64).to(options.device);
      torch::Tensor logits;
      {
        model::AutocastScope autocast(options.bf16, options.device);
        logits = model.Logits(x).to(torch::kFloat32);
      }
      torch::Tensor top = std::get<1>(logits.topk(k, 1));
      torch::Tensor hit = top.eq(y.unsqueeze(1));
      counts[0] += hit.select(1, 0).sum().item<double>();
      counts[1] += hit.any(1).sum().item<double>();
      counts[2] += static_cast<double>(labels.size());
      images.clear();
      labels.clear();
    };
    for (int64_t i = options.rank; i < n; i += options.world_size) {
      model::Example example = test.Get(i);
      ASSIGN_OR_RETURN(torch::Tensor image, transform->Apply(example.image, 0, i, 0));
      images.push_back(image);
      labels.push_back(example.label);
      if (static_cast<int64_t>(images.size()) == options.batch_size) flush();
    }
    flush();
    if (group != nullptr && options.world_size > 1) {
      torch::Tensor total = torch::tensor({counts[0], counts[1], counts[2]}, torch::kFloat64);
      if (options.device.is_cuda()) total = total.to(options.device);
      model::AllReduceSumInPlace(total, group);
      total = total.cpu();
      for (int i = 0; i < 3; ++i) counts[i] = total[i].item<double>();
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("evaluation: ", e.what_without_backtrace()));
  }
  if (counts[2] == 0) return absl::InvalidArgumentError("evaluation: the test split is empty");
  return Accuracy{counts[0] / counts[2], counts[1] / counts[2], static_cast<int64_t>(counts[2])};
}

}  // namespace simclr::worker
