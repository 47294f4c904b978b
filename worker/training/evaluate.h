// Top-1 / top-5 accuracy of a model's classifier on a test split, shared by
// the ranks of a gang.
#ifndef SIMCLR_WORKER_TRAINING_EVALUATE_H_
#define SIMCLR_WORKER_TRAINING_EVALUATE_H_

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "model/data/dataset.h"
#include "model/nn/simclr_model.h"

namespace c10d {
class ProcessGroup;
}  // namespace c10d

namespace simclr::worker {

struct Accuracy {
  double top1 = 0;  // fractions in [0, 1]
  double top5 = 0;
  int64_t examples = 0;
};

struct EvaluateOptions {
  int64_t batch_size = 256;
  int64_t image_size = 0;  // 0: the dataset's
  int64_t max_examples = 0;  // 0: all
  bool bf16 = false;
  torch::Device device = torch::kCPU;
  int rank = 0;
  int world_size = 1;
};

// Rank r classifies test examples r, r+W, r+2W, ... with the model in
// evaluation mode; one allreduce sums the counts, so every rank returns the
// same totals. Contract: all ranks of `group` call it together. The model is
// left in evaluation mode.
absl::StatusOr<Accuracy> Evaluate(model::SimclrModelImpl& model, const model::Dataset& test,
                                  const EvaluateOptions& options, c10d::ProcessGroup* group);

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_TRAINING_EVALUATE_H_
