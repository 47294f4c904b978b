#include "worker/training/objectives.h"

#include <memory>
#include <utility>
#include <vector>

#include <torch/nn/functional/loss.h>

#include "common/status_macros.h"
#include "model/checkpoint/checkpoint.h"
#include "model/loss/distill.h"
#include "model/loss/moco_queue.h"
#include "model/loss/nt_xent.h"

namespace simclr::worker {
namespace {

double Accuracy(const torch::Tensor& logits, const torch::Tensor& labels) {
  return logits.argmax(1).eq(labels).to(torch::kFloat64).mean().item<double>();
}

// Accuracy over the labelled images of the batch (labels >= 0); false when
// it has none.
bool LabelledAccuracy(const torch::Tensor& logits, const torch::Tensor& labels, double* accuracy) {
  const torch::Tensor labelled = labels.ge(0);
  const int64_t count = labelled.sum().item<int64_t>();
  if (count == 0) return false;
  *accuracy = logits.argmax(1).eq(labels).logical_and(labelled).sum().item<double>() /
              static_cast<double>(count);
  return true;
}

class PretrainObjective final : public Objective {
 public:
  PretrainObjective(model::SimclrModel model, double temperature, c10d::ProcessGroup* group,
                    MemoryOptions memory, std::unique_ptr<model::MocoQueue> queue)
      : model_(std::move(model)),
        group_(group),
        memory_(std::move(memory)),
        queue_(std::move(queue)) {
    options_.temperature = temperature;
  }

  int views_per_example() const override { return 2; }

  absl::StatusOr<ObjectiveOutput> Forward(const torch::Tensor& inputs,
                                          const torch::Tensor& labels) override {
    const int64_t b = inputs.size(0);
    // Both views go through the network as one batch of 2b, so batch norm
    // statistics cover both (as in the official implementation).
    torch::Tensor x = torch::cat({inputs.select(1, 0), inputs.select(1, 1)}, 0);
    if (queue_ != nullptr) {
      // The optimiser has stepped since the last call: follow the model.
      RETURN_IF_ERROR(model::EmaUpdate(*model_, *memory_.key, memory_.momentum));
    }
    model::SimclrModelImpl::Outputs out = model_->forward(x);
    torch::Tensor z = out.embedding.to(torch::kFloat32);
    model::NtXentOutput contrastive;
    if (queue_ == nullptr) {
      ASSIGN_OR_RETURN(contrastive,
                       model::NtXentLoss(z.narrow(0, 0, b), z.narrow(0, b, b), options_, group_));
    } else {
      ASSIGN_OR_RETURN(contrastive, model::MocoNtXentLoss(z.narrow(0, 0, b), z.narrow(0, b, b),
                                                          *queue_, options_, group_));
      torch::Tensor keys;
      {
        torch::NoGradGuard no_grad;
        memory_.key->train();  // batch statistics, as the model's
        keys = memory_.key->forward(x).embedding.to(torch::kFloat32);
      }
      RETURN_IF_ERROR(queue_->EnqueueFromAllRanks(keys, group_));
    }
    ObjectiveOutput result;
    result.loss = contrastive.loss;
    result.metrics["contrastive_loss"] = contrastive.loss.item<double>();
    result.metrics["contrastive_accuracy"] = contrastive.accuracy.item<double>();
    if (queue_ != nullptr) result.metrics["memory_size"] = static_cast<double>(queue_->size());
    if (model_->has_classifier()) {
      torch::Tensor logits =
          model_->ClassifierLogits(out.features.detach()).to(torch::kFloat32);
      torch::Tensor both = torch::cat({labels, labels}, 0);
      torch::Tensor probe = torch::nn::functional::cross_entropy(logits, both);
      result.loss = result.loss + probe;
      result.metrics["probe_loss"] = probe.item<double>();
      result.metrics["probe_accuracy"] = Accuracy(logits, both);
    }
    return result;
  }

  std::map<std::string, torch::Tensor> StateDict() const override {
    std::map<std::string, torch::Tensor> state;
    if (queue_ == nullptr) return state;
    model::Checkpoint key;
    if (model::ExportModuleState(*memory_.key, kKeyPrefix, &key).ok()) state = key.tensors;
    state[kQueueName] = queue_->Entries();
    state[kQueueHeadName] = torch::tensor({queue_->head()}, torch::kLong);
    return state;
  }

  absl::Status LoadStateDict(const std::map<std::string, torch::Tensor>& state) override {
    if (queue_ == nullptr) return absl::OkStatus();
    auto entries = state.find(kQueueName);
    auto head = state.find(kQueueHeadName);
    if (entries == state.end() || head == state.end()) {
      return absl::InvalidArgumentError(
          "the checkpoint has no memory of negatives (was it written with train.memory_size 0?)");
    }
    model::ImportOptions import;
    import.prefix = kKeyPrefix;
    RETURN_IF_ERROR(model::ImportModuleState(state, import, memory_.key.get()).status());
    return queue_->Restore(entries->second, head->second.item<int64_t>());
  }

 private:
  static constexpr char kKeyPrefix[] = "memory.key.";
  static constexpr char kQueueName[] = "memory.queue";
  static constexpr char kQueueHeadName[] = "memory.queue_head";

  model::SimclrModel model_;
  c10d::ProcessGroup* group_;  // not owned
  model::NtXentOptions options_;
  MemoryOptions memory_;
  std::unique_ptr<model::MocoQueue> queue_;  // null without a memory
};

class ClassifierObjective final : public Objective {
 public:
  ClassifierObjective(model::SimclrModel model, Frozen frozen)
      : model_(std::move(model)), frozen_(frozen) {
    if (frozen_.encoder_blocks < Frozen::kWholeEncoder) {
      for (const auto& item : model_->named_modules("", /*include_self=*/false)) {
        if (InFrozenEncoderBlock(item.key(), frozen_)) frozen_blocks_.push_back(item.value());
      }
    }
  }

  absl::StatusOr<ObjectiveOutput> Forward(const torch::Tensor& inputs,
                                          const torch::Tensor& labels) override {
    torch::Tensor logits;
    if (frozen_.encoder_blocks < Frozen::kWholeEncoder) {
      // Partial fine-tuning: the fixed blocks keep their batch-norm
      // statistics (the optimiser already leaves their weights alone).
      for (const auto& block : frozen_blocks_) block->eval();
      logits = model_->Logits(inputs);
    } else {
      const int layer = model_->options().from_head_layer;
      torch::Tensor features;
      {
        // A fixed encoder: inference-mode batch norm, no gradient.
        torch::NoGradGuard no_grad;
        model_->encoder()->eval();
        features = model_->encoder()->forward(inputs);
      }
      torch::Tensor representation;
      if (frozen_.head) {
        torch::NoGradGuard no_grad;
        model_->head()->eval();
        representation = model_->head()->forward(features)[layer];
      } else {
        representation = model_->head()->forward(features)[layer];
      }
      logits = model_->ClassifierLogits(representation);
    }
    logits = logits.to(torch::kFloat32);
    ObjectiveOutput result;
    result.loss = torch::nn::functional::cross_entropy(logits, labels);
    result.metrics["train_accuracy"] = Accuracy(logits, labels);
    return result;
  }

 private:
  model::SimclrModel model_;
  const Frozen frozen_;
  std::vector<std::shared_ptr<torch::nn::Module>> frozen_blocks_;
};

class DistillObjective final : public Objective {
 public:
  DistillObjective(model::SimclrModel student, model::SimclrModel teacher, double temperature,
                   double label_weight)
      : student_(std::move(student)), teacher_(std::move(teacher)) {
    options_.temperature = temperature;
    options_.label_weight = label_weight;
    teacher_->eval();
  }

  absl::StatusOr<ObjectiveOutput> Forward(const torch::Tensor& inputs,
                                          const torch::Tensor& labels) override {
    torch::Tensor teacher_logits;
    {
      torch::NoGradGuard no_grad;
      teacher_logits = teacher_->Logits(inputs).to(torch::kFloat32);
    }
    torch::Tensor student_logits = student_->Logits(inputs).to(torch::kFloat32);
    ASSIGN_OR_RETURN(torch::Tensor loss, model::DistillationLoss(student_logits, teacher_logits,
                                                                 labels, options_));
    ObjectiveOutput result;
    result.loss = loss;
    // Only the images whose labels the job may use.
    double accuracy = 0;
    if (options_.label_weight > 0 && LabelledAccuracy(student_logits, labels, &accuracy)) {
      result.metrics["train_accuracy"] = accuracy;
    }
    result.metrics["teacher_agreement"] =
        student_logits.argmax(1).eq(teacher_logits.argmax(1)).to(torch::kFloat64).mean().item<double>();
    return result;
  }

 private:
  model::SimclrModel student_;
  model::SimclrModel teacher_;
  model::DistillOptions options_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Objective>> MakePretrainObjective(model::SimclrModel model,
                                                                 double temperature,
                                                                 c10d::ProcessGroup* group,
                                                                 MemoryOptions memory) {
  std::unique_ptr<model::MocoQueue> queue;
  if (memory.size > 0) {
    if (memory.key.is_empty()) {
      return absl::InvalidArgumentError("a memory of negatives needs a key network");
    }
    // The key network starts as the model (momentum 0 copies).
    RETURN_IF_ERROR(model::EmaUpdate(*model, *memory.key, 0.0));
    model::MocoQueueOptions queue_options;
    queue_options.capacity = memory.size;
    const model::ModelOptions& m = model->options();
    queue_options.dim = m.proj_head_layers > 0 ? m.proj_dim : model->encoder()->num_features();
    const auto device = model->parameters().front().device();
    ASSIGN_OR_RETURN(queue, model::MocoQueue::Create(
                                queue_options, torch::TensorOptions(torch::kFloat32).device(device)));
  }
  return std::unique_ptr<Objective>(std::make_unique<PretrainObjective>(
      std::move(model), temperature, group, std::move(memory), std::move(queue)));
}

std::unique_ptr<Objective> MakeClassifierObjective(model::SimclrModel model, Frozen frozen) {
  return std::make_unique<ClassifierObjective>(std::move(model), frozen);
}

std::unique_ptr<Objective> MakeDistillObjective(model::SimclrModel student,
                                                model::SimclrModel teacher, double temperature,
                                                double label_weight) {
  return std::make_unique<DistillObjective>(std::move(student), std::move(teacher), temperature,
                                            label_weight);
}

}  // namespace simclr::worker
