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

const std::vector<JobKind>& AllJobKinds() {
  // clang-format off
  static const auto* kinds = new std::vector<JobKind>{
    // name          dependency            objective                trainable
    //   labels                  contrastive section     parent teach tuning
    {"pretrain",    Dependency::kNone,    ObjectiveKind::kContrastive,  Trainable::kEverything,
       Labels::kNone,           true,       "",          true,  false, false},
    {"finetune",    Dependency::kParent,  ObjectiveKind::kClassifier,   Trainable::kUpToHeadLayer,
       Labels::kTrainingSet,    false,      "finetune",  true,  true,  true},
    {"distill",     Dependency::kTeacher, ObjectiveKind::kDistillation, Trainable::kEverything,
       Labels::kLabelLossOnly,  false,      "distill",   true,  true,  false},
    {"linear_eval", Dependency::kParent,  ObjectiveKind::kClassifier,   Trainable::kClassifierOnly,
       Labels::kTrainingSet,    false,      "",          false, true,  true},
    // The baseline: the same network trained from scratch on the labels.
    {"supervised",  Dependency::kNone,    ObjectiveKind::kClassifier,   Trainable::kEverything,
       Labels::kTrainingSet,    false,      "",          false, true,  false},
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
