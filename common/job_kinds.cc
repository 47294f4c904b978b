#include "common/job_kinds.h"

#include "absl/strings/str_join.h"

namespace simclr {

const char* JobKind::dependency_field() const {
  switch (dependency) {
    case Dependency::kParent:
      return "parent";
    case Dependency::kTeacher:
      return "teacher";
    case Dependency::kNone:
      break;
  }
  return "";
}

namespace {

//                                    name    scaling   lr     wd    warmup epochs
constexpr OptimizerDefaults kPretraining{"lars", "linear", 0.3,   1e-6, 10.0, 100.0};
constexpr OptimizerDefaults kFineTuning{"lars",  "sqrt",   0.005, 0.0,  0.0,  30.0};
constexpr OptimizerDefaults kLinearEval{"sgd",   "linear", 0.1,   0.0,  0.0,  90.0};

}  // namespace

const std::vector<JobKind>& AllJobKinds() {
  // clang-format off
  static const auto* kinds = new std::vector<JobKind>{
    // name          dependency            objective                     trainable
    //   labels                  contrastive section     parent teach defaults
    {"pretrain",    Dependency::kNone,    ObjectiveKind::kContrastive,  Trainable::kEverything,
       Labels::kNone,           true,       "",          true,  false, kPretraining},
    {"finetune",    Dependency::kParent,  ObjectiveKind::kClassifier,   Trainable::kUpToHeadLayer,
       Labels::kTrainingSet,    false,      "finetune",  true,  true,  kFineTuning},
    {"distill",     Dependency::kTeacher, ObjectiveKind::kDistillation, Trainable::kEverything,
       Labels::kLabelLossOnly,  false,      "distill",   true,  true,  kPretraining},
    {"linear_eval", Dependency::kParent,  ObjectiveKind::kClassifier,   Trainable::kClassifierOnly,
       Labels::kTrainingSet,    false,      "",          false, true,  kLinearEval},
    // The baseline: the same network trained from scratch on the labels.
    {"supervised",  Dependency::kNone,    ObjectiveKind::kClassifier,   Trainable::kEverything,
       Labels::kTrainingSet,    false,      "",          false, true,  kPretraining},
  };
  // clang-format on
  return *kinds;
}

const JobKind* FindJobKind(absl::string_view name) {
  for (const JobKind& kind : AllJobKinds()) {
    if (name == kind.name) return &kind;
  }
  return nullptr;
}

std::string JobKindNames() {
  return absl::StrJoin(AllJobKinds(), ", ",
                       [](std::string* out, const JobKind& k) { out->append(k.name); });
}

}  // namespace simclr
