// The loss of each job kind on one rank's batch: what differs between
// pretraining, fine-tuning, supervised training and distillation. The loop
// around it (trainer.h) is shared.
#ifndef SIMCLR_WORKER_TRAINING_OBJECTIVES_H_
#define SIMCLR_WORKER_TRAINING_OBJECTIVES_H_

#include <map>
#include <memory>
#include <string>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "model/data/loader.h"
#include "model/nn/simclr_model.h"
#include "worker/training/model_setup.h"

namespace c10d {
class ProcessGroup;
}  // namespace c10d

namespace simclr::worker {

struct ObjectiveOutput {
  torch::Tensor loss;  // scalar, differentiable, this rank's mean
  std::map<std::string, double> metrics;
};

// Not thread-safe: the training thread calls it once per step, in training
// mode, with inputs already on the model's device. Every rank calls Forward
// at the same steps (the networks' global BN and NT-Xent are collectives).
class Objective {
 public:
  virtual ~Objective() = default;
  virtual absl::StatusOr<ObjectiveOutput> Forward(const torch::Tensor& inputs,
                                                  const torch::Tensor& labels) = 0;
  // Images each example of a batch holds (2 views for pretraining).
  virtual int views_per_example() const { return 1; }

  // Training state the objective keeps besides the model and the optimiser
  // (the memory of negatives and its key network), by name. Checkpoints hold
  // it under model::kObjectivePrefix, so a resumed job continues exactly.
  virtual std::map<std::string, torch::Tensor> StateDict() const { return {}; }
  // Restores what StateDict returned; InvalidArgument naming what is missing
  // or misshapen.
  virtual absl::Status LoadStateDict(const std::map<std::string, torch::Tensor>& state) {
    return absl::OkStatus();
  }
};

// The memory of negatives of a pretraining job (train.memory_size > 0): a
// key network, the model's exponential moving average, and its embeddings
// of the last `size` images.
struct MemoryOptions {
  int64_t size = 0;  // 0: no memory
  double momentum = 0.999;
  // A network of the model's architecture, to become the key network (its
  // weights are overwritten with the model's; its batch norm must use the
  // gang's process group like the model's).
  model::SimclrModel key{nullptr};
};

// SimCLR: inputs [b, 2, C, H, W]; NT-Xent over both views of the gang's whole
// batch with `temperature` (and, with a memory, its entries as extra
// negatives; after each step the key network's embeddings of both views of
// the gang's batch join the memory, and before each step the key network
// moves towards the model), plus cross-entropy of the monitoring classifier on
// detached encoder features (it never trains the encoder).
absl::StatusOr<std::unique_ptr<Objective>> MakePretrainObjective(model::SimclrModel model,
                                                                 double temperature,
                                                                 c10d::ProcessGroup* group,
                                                                 MemoryOptions memory = {});

// Cross-entropy of the model's classifier: finetune, supervised and
// linear_eval. The `frozen` parts run in evaluation mode without gradients.
std::unique_ptr<Objective> MakeClassifierObjective(model::SimclrModel model, Frozen frozen);

// SimCLRv2 distillation: the teacher's softened predictions on the same
// images train the student, mixed with the cross-entropy on the labelled
// images of the batch when label_weight > 0 (labels model::kUnlabelled mark
// the others; model/loss/distill.h).
std::unique_ptr<Objective> MakeDistillObjective(model::SimclrModel student,
                                                model::SimclrModel teacher, double temperature,
                                                double label_weight);

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_TRAINING_OBJECTIVES_H_
