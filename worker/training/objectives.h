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
};

// SimCLR: inputs [b, 2, C, H, W]; NT-Xent over both views of the gang's whole
// batch with `temperature`, plus cross-entropy of the monitoring classifier on
// detached encoder features (it never trains the encoder).
std::unique_ptr<Objective> MakePretrainObjective(model::SimclrModel model, double temperature,
                                                 c10d::ProcessGroup* group);

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
