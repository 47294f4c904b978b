#include "common/job_kinds.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace simclr {
namespace {

TEST(JobKindsTest, EveryKindIsFoundByItsNameAndNamesAreUnique) {
  std::set<std::string> names;
  for (const JobKind& kind : AllJobKinds()) {
    EXPECT_TRUE(names.insert(kind.name).second) << kind.name;
    EXPECT_EQ(FindJobKind(kind.name), &kind);
  }
  EXPECT_EQ(FindJobKind("pretraining"), nullptr);
  EXPECT_EQ(FindJobKind(""), nullptr);
  EXPECT_EQ(JobKindNames(), "pretrain, finetune, distill, linear_eval, supervised");
}

// The rules the paper's pipeline depends on, stated once here.
TEST(JobKindsTest, ThePipelinesRulesHold) {
  const JobKind& pretrain = *FindJobKind("pretrain");
  const JobKind& finetune = *FindJobKind("finetune");
  const JobKind& distill = *FindJobKind("distill");
  const JobKind& linear_eval = *FindJobKind("linear_eval");
  const JobKind& supervised = *FindJobKind("supervised");

  EXPECT_EQ(pretrain.labels, Labels::kNone);
  EXPECT_EQ(pretrain.objective, ObjectiveKind::kContrastive);
  EXPECT_TRUE(pretrain.contrastive_views);
  EXPECT_FALSE(pretrain.can_teach);  // no trained classifier

  EXPECT_EQ(finetune.dependency, Dependency::kParent);
  EXPECT_STREQ(finetune.dependency_field(), "parent");
  EXPECT_EQ(finetune.labels, Labels::kTrainingSet);
  EXPECT_EQ(finetune.trainable, Trainable::kUpToHeadLayer);
  EXPECT_STREQ(finetune.section, "finetune");

  // Distillation trains on every image; labels, if any, only where known.
  EXPECT_EQ(distill.dependency, Dependency::kTeacher);
  EXPECT_STREQ(distill.dependency_field(), "teacher");
  EXPECT_EQ(distill.labels, Labels::kLabelLossOnly);
  EXPECT_EQ(distill.objective, ObjectiveKind::kDistillation);

  EXPECT_EQ(linear_eval.trainable, Trainable::kClassifierOnly);
  EXPECT_STREQ(linear_eval.defaults.name, "sgd");
  EXPECT_EQ(linear_eval.defaults.epochs, 90);
  EXPECT_STREQ(finetune.defaults.lr_scaling, "sqrt");
  EXPECT_EQ(pretrain.defaults.base_lr, 0.3);
  EXPECT_FALSE(linear_eval.can_be_parent);

  EXPECT_EQ(supervised.dependency, Dependency::kNone);
  EXPECT_STREQ(supervised.dependency_field(), "");
  EXPECT_EQ(supervised.labels, Labels::kTrainingSet);
  EXPECT_FALSE(supervised.contrastive_views);
}

}  // namespace
}  // namespace simclr
