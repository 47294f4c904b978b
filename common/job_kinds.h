// The kinds of training job, and every rule that differs between them, in one
// table: the coordinator validates specs, fills defaults and resolves
// dependencies from it, the trainer picks data, augmentation, objective and
// trainable parameters from it. Adding a kind is one entry here (and its
// objective in worker/training/objectives.h).
#ifndef SIMCLR_COMMON_JOB_KINDS_H_
#define SIMCLR_COMMON_JOB_KINDS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace simclr {

// What a job starts from, named by its spec.
enum class Dependency {
  kNone,     // fresh weights (pretrain, supervised)
  kParent,   // `parent`: its encoder and projection head (finetune, linear_eval)
  kTeacher,  // `teacher`: a whole model whose predictions are the targets (distill)
};

// What the job minimises (worker/training/objectives.h).
enum class ObjectiveKind {
  kContrastive,   // NT-Xent between two views of each image
  kClassifier,    // cross-entropy against the labels
  kDistillation,  // cross-entropy against the teacher's softened predictions
};

// Which labels a job sees.
enum class Labels {
  kNone,          // trains on every image, unlabelled (pretrain)
  kTrainingSet,   // trains on the labelled subset only: data.label_fraction or
                  // data.label_index_file, default every label (finetune,
                  // linear_eval, supervised)
  kLabelLossOnly, // trains on every image; with distill.label_weight > 0 it
                  // also takes the cross-entropy on the labelled subset,
                  // which the spec must then name (distill; the paper's Eq. 3)
};

// Which parameters the optimiser updates.
enum class Trainable {
  kEverything,      // the encoder, the head and the classifier
  kUpToHeadLayer,   // the encoder, head layers 1..finetune.from_head_layer, the classifier
  kClassifierOnly,  // the linear classifier on a frozen encoder
};

// The paper's optimisation recipes, by kind: pretraining (LARS, lr 0.3 x
// batch/256, weight decay 1e-6, 10 warmup epochs, 100 epochs), fine-tuning
// (LARS, lr 0.005 x sqrt(batch), no weight decay or warmup, 30 epochs), and
// linear evaluation as the official code runs it (SGD with Nesterov momentum,
// lr 0.1 x batch/256, no weight decay, 90 epochs).
struct OptimizerDefaults {
  const char* name;        // lars | sgd
  const char* lr_scaling;  // linear | sqrt
  double base_lr;
  double weight_decay;
  double warmup_epochs;
  double epochs;
};

struct JobKind {
  const char* name;  // JobSpec.kind
  Dependency dependency;
  ObjectiveKind objective;
  Trainable trainable;
  Labels labels;
  // SimCLR's augmentation (crop, flip, colour jitter, grayscale, blur) on two
  // views; otherwise one view cropped and flipped.
  bool contrastive_views;
  // The JobSpec section only this kind may set ("finetune", "distill"), or "".
  const char* section;
  // Its checkpoint holds an encoder and head a child can start from.
  bool can_be_parent;
  // Its network has a trained classifier a student can learn from.
  bool can_teach;
  // What an unset optimizer and train field defaults to.
  OptimizerDefaults defaults;

  // "parent" or "teacher": the spec field naming the dependency ("" for none).
  const char* dependency_field() const;
};

// Every kind, in the order of the docs.
const std::vector<JobKind>& AllJobKinds();

// The kind called `name`, or nullptr.
const JobKind* FindJobKind(absl::string_view name);

// "pretrain, finetune, ..." for error messages.
std::string JobKindNames();

}  // namespace simclr

#endif  // SIMCLR_COMMON_JOB_KINDS_H_
