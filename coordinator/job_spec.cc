#include "coordinator/job_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_join.h"
#include "common/data_roots.h"
#include "common/status_macros.h"

namespace simclr::coordinator {
namespace {

// Bounds that keep every count a run derives from a spec far from overflow
// (steps = ceil(epochs x examples / batch) stays below 2^53) and every
// string small enough to store and print.
constexpr double kMaxEpochs = 1e5;
constexpr int64_t kMaxCount = int64_t{1} << 40;  // steps, examples
constexpr int kMaxBatch = 1 << 20;
constexpr int kMaxPriority = 1000;
constexpr size_t kMaxLabels = 16;
constexpr size_t kMaxPathLength = 4096;

absl::Status Invalid(const std::string& field, const std::string& got,
                     const std::string& expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": got ", got, ", expected ", expected));
}

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

absl::Status CheckOneOf(const std::string& field, const std::string& value,
                        std::initializer_list<const char*> allowed) {
  for (const char* a : allowed) {
    if (value == a) return absl::OkStatus();
  }
  return Invalid(field, value.empty() ? "nothing" : Quoted(value),
                 absl::StrCat("one of ", absl::StrJoin(allowed, ", ")));
}

// [lo, hi] for doubles; NaN fails.
absl::Status CheckRange(const std::string& field, double value, double lo, double hi) {
  if (!(value >= lo && value <= hi)) {
    return Invalid(field, absl::StrCat(value), absl::StrCat("a number in [", lo, ", ", hi, "]"));
  }
  return absl::OkStatus();
}

// (0, hi]; NaN and infinities fail.
absl::Status CheckPositiveUpTo(const std::string& field, double value, double hi) {
  if (!(value > 0 && value <= hi)) {
    return Invalid(field, absl::StrCat(value), absl::StrCat("a number in (0, ", hi, "]"));
  }
  return absl::OkStatus();
}

// [0, hi] for counts; `zero` says what 0 means.
absl::Status CheckCount(const std::string& field, int64_t value, int64_t hi,
                        const std::string& zero) {
  if (value < 0 || value > hi) {
    return Invalid(field, absl::StrCat(value),
                   absl::StrCat("an integer in [0, ", hi, "] (0 = ", zero, ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckPath(const std::string& field, const std::string& path,
                       const SpecLimits& limits) {
  if (path.empty()) return absl::OkStatus();
  if (path.size() > kMaxPathLength) {
    return Invalid(field, absl::StrCat("a path of ", path.size(), " characters"),
                   absl::StrCat("at most ", kMaxPathLength));
  }
  return CheckUnderDataRoots(field, path, limits.data_roots, /*resolve_links=*/false);
}

absl::Status CheckName(const std::string& field, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 63 && name.front() != '-' && name.back() != '-';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  }
  if (!ok) {
    return Invalid(field, name.empty() ? "nothing" : Quoted(name),
                   "1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'");
  }
  // Jobs are looked up by id or name, so a name must not read as an id.
  if (IsJobIdShaped(name)) {
    return Invalid(field, Quoted(name), "a name that is not of the form j-<number> (job ids are)");
  }
  return absl::OkStatus();
}

// Kubernetes-like labels: short keys and values of a safe alphabet.
absl::Status CheckLabels(const google::protobuf::Map<std::string, std::string>& labels) {
  if (labels.size() > kMaxLabels) {
    return Invalid("labels", absl::StrCat(labels.size(), " labels"),
                   absl::StrCat("at most ", kMaxLabels));
  }
  auto all_of = [](const std::string& text, absl::string_view extra, bool upper) {
    for (char c : text) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      (upper && c >= 'A' && c <= 'Z') || extra.find(c) != absl::string_view::npos;
      if (!ok) return false;
    }
    return true;
  };
  for (const auto& [key, value] : labels) {
    if (key.empty() || key.size() > 63 || !all_of(key, "._/-", false)) {
      return Invalid("labels", absl::StrCat("key ", Quoted(key)),
                     "1-63 characters of a-z, 0-9, '.', '_', '/' and '-'");
    }
    if (value.size() > 63 || !all_of(value, "._-", true)) {
      return Invalid(absl::StrCat("labels.", key), Quoted(value),
                     "at most 63 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckModel(const v1::ModelSpec& m) {
  if (m.depth() != 0 && m.depth() != 18 && m.depth() != 34 && m.depth() != 50 &&
      m.depth() != 101 && m.depth() != 152) {
    return Invalid("model.depth", absl::StrCat(m.depth()), "one of 18, 34, 50, 101, 152");
  }
  if (m.has_width_multiplier()) {
    RETURN_IF_ERROR(CheckRange("model.width_multiplier", m.width_multiplier(), 0.0625, 3.0));
  }
  if (m.has_sk_ratio()) RETURN_IF_ERROR(CheckRange("model.sk_ratio", m.sk_ratio(), 0.0, 0.5));
  if (m.has_proj_head_layers() && (m.proj_head_layers() < 1 || m.proj_head_layers() > 4)) {
    return Invalid("model.proj_head_layers", absl::StrCat(m.proj_head_layers()),
                   "an integer in [1, 4]");
  }
  if (m.proj_dim() < 0 || m.proj_dim() > 65536) {
    return Invalid("model.proj_dim", absl::StrCat(m.proj_dim()), "an integer in [1, 65536]");
  }
  if (m.image_size() < 0 || m.image_size() > 1024) {
    return Invalid("model.image_size", absl::StrCat(m.image_size()), "an integer in [8, 1024]");
  }
  if (m.image_size() != 0 && m.image_size() < 8) {
    return Invalid("model.image_size", absl::StrCat(m.image_size()), "an integer in [8, 1024]");
  }
  return absl::OkStatus();
}

bool ModelIsSet(const v1::ModelSpec& m) {
  return m.depth() != 0 || m.has_width_multiplier() || m.has_sk_ratio() ||
         m.has_proj_head_layers() || m.proj_dim() != 0 || m.image_size() != 0;
}

absl::Status CheckData(const v1::DataSpec& d, bool needs_labels,
                       const std::string& spec_kind_for_error, const SpecLimits& limits) {
  RETURN_IF_ERROR(CheckPath("data.path", d.path(), limits));
  RETURN_IF_ERROR(CheckPath("data.label_index_file", d.label_index_file(), limits));
  if (!d.dataset().empty()) {
    RETURN_IF_ERROR(CheckOneOf("data.dataset", d.dataset(),
                               {"fashion-mnist", "cifar10", "image-folder"}));
    if (d.dataset() != "fashion-mnist" && d.path().empty()) {
      return Invalid("data.path", "nothing", absl::StrCat("the directory of the ", d.dataset(),
                                                          " files"));
    }
  }
  if (d.has_label_fraction()) {
    if (!(d.label_fraction() > 0 && d.label_fraction() <= 1)) {
      return Invalid("data.label_fraction", absl::StrCat(d.label_fraction()),
                     "a fraction in (0, 1], e.g. 0.01 or 0.1");
    }
    if (!needs_labels) {
      return Invalid("data.label_fraction", absl::StrCat(d.label_fraction()),
                     absl::StrCat("no value: a ", spec_kind_for_error,
                                  " job trains on unlabelled images"));
    }
  }
  if (!needs_labels && !d.label_index_file().empty()) {
    return Invalid("data.label_index_file", Quoted(d.label_index_file()),
                   absl::StrCat("no value: a ", spec_kind_for_error,
                                " job trains on unlabelled images"));
  }
  if (d.validation_examples() < 0 || d.validation_examples() > kMaxCount) {
    return Invalid("data.validation_examples", absl::StrCat(d.validation_examples()),
                   absl::StrCat("an integer in [0, ", kMaxCount, "]"));
  }
  if (!d.evaluate_on().empty()) {
    RETURN_IF_ERROR(CheckOneOf("data.evaluate_on", d.evaluate_on(), {"test", "validation"}));
  }
  if (d.validation_examples() > 0 && !d.label_index_file().empty()) {
    return Invalid("data.label_index_file", Quoted(d.label_index_file()),
                   "no value with data.validation_examples (use label_fraction, drawn from the "
                   "images the validation set leaves)");
  }
  if (d.has_label_fraction() && !d.label_index_file().empty()) {
    return Invalid("data.label_index_file", Quoted(d.label_index_file()),
                   "either label_fraction or label_index_file, not both");
  }
  if (d.loader_threads() < 0 || d.loader_threads() > 64) {
    return Invalid("data.loader_threads", absl::StrCat(d.loader_threads()),
                   "an integer in [0, 64]");
  }
  RETURN_IF_ERROR(CheckCount("data.max_train_examples", d.max_train_examples(), kMaxCount, "all"));
  RETURN_IF_ERROR(CheckCount("data.max_test_examples", d.max_test_examples(), kMaxCount, "all"));
  return absl::OkStatus();
}

absl::Status CheckOptimizer(const v1::OptimizerSpec& o) {
  if (!o.name().empty()) RETURN_IF_ERROR(CheckOneOf("optimizer.name", o.name(), {"lars", "sgd"}));
  if (!o.lr_scaling().empty()) {
    RETURN_IF_ERROR(CheckOneOf("optimizer.lr_scaling", o.lr_scaling(), {"linear", "sqrt"}));
  }
  if (o.base_lr() != 0) RETURN_IF_ERROR(CheckPositiveUpTo("optimizer.base_lr", o.base_lr(), 1e4));
  if (o.has_weight_decay()) {
    RETURN_IF_ERROR(CheckRange("optimizer.weight_decay", o.weight_decay(), 0.0, 1.0));
  }
  if (o.has_momentum()) RETURN_IF_ERROR(CheckRange("optimizer.momentum", o.momentum(), 0.0, 0.999999));
  if (o.has_warmup_epochs()) {
    RETURN_IF_ERROR(CheckRange("optimizer.warmup_epochs", o.warmup_epochs(), 0.0, 1e6));
  }
  if (o.has_nesterov() && o.nesterov() && o.name() != "sgd") {
    return Invalid("optimizer.nesterov", "true",
                   "no value unless optimizer.name is sgd (LARS uses plain momentum)");
  }
  return absl::OkStatus();
}

absl::Status CheckTrain(const v1::TrainSpec& t, int world_size) {
  if (t.batch_size() < 0 || t.batch_size() > kMaxBatch) {
    return Invalid("train.batch_size", absl::StrCat(t.batch_size()),
                   absl::StrCat("an integer in [1, ", kMaxBatch, "]"));
  }
  if (t.batch_size() > 0 && t.batch_size() % world_size != 0) {
    return Invalid("train.batch_size", absl::StrCat(t.batch_size()),
                   absl::StrCat("a multiple of world_size (", world_size,
                                ") so every rank gets the same share"));
  }
  if (t.epochs() != 0) RETURN_IF_ERROR(CheckPositiveUpTo("train.epochs", t.epochs(), kMaxEpochs));
  RETURN_IF_ERROR(CheckCount("train.max_steps", t.max_steps(), kMaxCount, "no cap"));
  RETURN_IF_ERROR(CheckCount("train.profile_step", t.profile_step(), kMaxCount, "off"));
  if (t.temperature() != 0) {
    RETURN_IF_ERROR(CheckPositiveUpTo("train.temperature", t.temperature(), 100));
  }
  if (!t.precision().empty()) {
    RETURN_IF_ERROR(CheckOneOf("train.precision", t.precision(), {"fp32", "bf16"}));
  }
  RETURN_IF_ERROR(CheckCount("train.checkpoint_every_steps", t.checkpoint_every_steps(),
                             kMaxCount, "only at the end"));
  if (t.has_color_jitter_strength()) {
    RETURN_IF_ERROR(CheckRange("train.color_jitter_strength", t.color_jitter_strength(), 0.0, 2.0));
  }
  if (t.has_crop_area_min()) {
    RETURN_IF_ERROR(CheckPositiveUpTo("train.crop_area_min", t.crop_area_min(), 1.0));
  }
  if (t.eval_batch_size() < 0 || t.eval_batch_size() > kMaxBatch) {
    return Invalid("train.eval_batch_size", absl::StrCat(t.eval_batch_size()),
                   absl::StrCat("an integer in [1, ", kMaxBatch, "]"));
  }
  return absl::OkStatus();
}

absl::Status CheckEvaluationSplit(const v1::DataSpec& d) {
  if (d.evaluate_on() == "validation" && d.validation_examples() == 0) {
    return Invalid("data.evaluate_on", "\"validation\"",
                   "test, or validation with data.validation_examples > 0");
  }
  return absl::OkStatus();
}

// "pretrain, finetune, distill": the kinds a finetune or linear_eval job may
// start from.
std::string CanBeParentNames() {
  std::vector<std::string> names;
  for (const JobKind& kind : AllJobKinds()) {
    if (kind.can_be_parent) names.push_back(kind.name);
  }
  return absl::StrJoin(names, ", ");
}

}  // namespace

const JobKind& KindOf(const v1::JobSpec& spec) {
  const JobKind* kind = FindJobKind(spec.kind());
  if (kind == nullptr) {
    std::fprintf(stderr, "job spec \"%s\" of unknown kind \"%s\" was not validated\n",
                 spec.name().c_str(), spec.kind().c_str());
    std::abort();
  }
  return *kind;
}

const std::string& DependencyName(const v1::JobSpec& spec) {
  static const std::string* const kNone = new std::string;
  switch (KindOf(spec).dependency) {
    case Dependency::kParent:
      return spec.parent();
    case Dependency::kTeacher:
      return spec.teacher();
    case Dependency::kNone:
      break;
  }
  return *kNone;
}

absl::Status CheckJobSpec(const v1::JobSpec& spec, const SpecLimits& limits) {
  RETURN_IF_ERROR(CheckName("name", spec.name()));
  RETURN_IF_ERROR(CheckLabels(spec.labels()));
  const JobKind* kind = FindJobKind(spec.kind());
  if (kind == nullptr) {
    return Invalid("kind", Quoted(spec.kind()), absl::StrCat("one of ", JobKindNames()));
  }
  if (spec.has_world_size() &&
      (spec.world_size() < 1 || spec.world_size() > limits.max_world_size)) {
    return Invalid("world_size", absl::StrCat(spec.world_size()),
                   absl::StrCat("an integer in [1, ", limits.max_world_size, "]"));
  }
  if (spec.priority() < -kMaxPriority || spec.priority() > kMaxPriority) {
    return Invalid("priority", absl::StrCat(spec.priority()),
                   absl::StrCat("an integer in [", -kMaxPriority, ", ", kMaxPriority, "]"));
  }
  for (const auto& [field, value] : {std::pair<const char*, const std::string*>{"parent", &spec.parent()},
                                     {"teacher", &spec.teacher()}}) {
    if (value->size() > 63) {
      return Invalid(field, absl::StrCat("a name of ", value->size(), " characters"),
                     "the name or id of a job (at most 63 characters)");
    }
  }
  const int world_size = spec.has_world_size() ? spec.world_size() : 1;
  if (!spec.device().empty()) RETURN_IF_ERROR(CheckOneOf("device", spec.device(), {"cpu", "cuda"}));
  if (spec.has_max_restarts() && (spec.max_restarts() < 0 || spec.max_restarts() > 100)) {
    return Invalid("max_restarts", absl::StrCat(spec.max_restarts()), "an integer in [0, 100]");
  }

  // A kind names its dependency, if it has one, in its own field; no other.
  const std::pair<Dependency, const std::string*> named[] = {
      {Dependency::kParent, &spec.parent()}, {Dependency::kTeacher, &spec.teacher()}};
  for (const auto& [dependency, value] : named) {
    const char* field = dependency == Dependency::kParent ? "parent" : "teacher";
    if (kind->dependency == dependency && value->empty()) {
      return Invalid(field, "nothing",
                     dependency == Dependency::kParent
                         ? absl::StrCat("the name or id of the job a ", kind->name,
                                        " job starts from")
                         : "the name or id of the job whose model labels the images");
    }
    if (kind->dependency != dependency && !value->empty()) {
      const std::string hint =
          kind->dependency == Dependency::kNone
              ? ""
              : absl::StrCat(" (a ", kind->name, " job names a ", kind->dependency_field(), ")");
      return Invalid(field, Quoted(*value),
                     absl::StrCat("no ", field, " for a ", kind->name, " job", hint));
    }
  }
  if (kind->dependency == Dependency::kParent && ModelIsSet(spec.model())) {
    return Invalid("model", "a model",
                   absl::StrCat("no model: a ", kind->name, " job uses its parent's network"));
  }
  for (const auto& [section, present] :
       {std::pair<std::string, bool>{"finetune", spec.has_finetune()},
        {"distill", spec.has_distill()}}) {
    if (present && section != kind->section) {
      return Invalid(section, absl::StrCat("a ", section, " section"),
                     absl::StrCat("none for a ", kind->name, " job"));
    }
  }
  if ((spec.train().memory_size() != 0 || spec.train().has_memory_momentum()) &&
      kind->objective != ObjectiveKind::kContrastive) {
    return Invalid("train.memory_size", absl::StrCat(spec.train().memory_size()),
                   absl::StrCat("no value: the memory of negatives is for pretraining, not a ",
                                kind->name, " job"));
  }
  if (spec.train().memory_size() < 0 || spec.train().memory_size() > (int64_t{1} << 20)) {
    return Invalid("train.memory_size", absl::StrCat(spec.train().memory_size()),
                   "an integer in [0, 1048576] (the paper uses 65536)");
  }
  if (spec.train().has_memory_momentum()) {
    RETURN_IF_ERROR(
        CheckRange("train.memory_momentum", spec.train().memory_momentum(), 0.0, 0.999999));
  }
  if (spec.train().has_blur() && !kind->contrastive_views) {
    return Invalid("train.blur", spec.train().blur() ? "true" : "false",
                   absl::StrCat("no value: only pretraining's augmentation blurs, not a ",
                                kind->name, " job's"));
  }
  if (kind->dependency == Dependency::kNone && spec.data().dataset().empty()) {
    return Invalid("data.dataset", "nothing", "one of fashion-mnist, cifar10, image-folder");
  }
  // A distillation job's label loss needs the labelled subset named: the
  // images the teacher was fine-tuned on (same subset, same train.seed).
  const bool names_subset =
      spec.data().has_label_fraction() || !spec.data().label_index_file().empty();
  if (kind->labels == Labels::kLabelLossOnly && spec.distill().label_weight() > 0 &&
      !names_subset) {
    return Invalid("data.label_fraction", "nothing",
                   "the labelled subset the label loss may use (data.label_fraction or "
                   "data.label_index_file) when distill.label_weight > 0");
  }

  RETURN_IF_ERROR(CheckModel(spec.model()));
  const bool may_name_labels = kind->labels == Labels::kTrainingSet ||
                               (kind->labels == Labels::kLabelLossOnly &&
                                spec.distill().label_weight() > 0);
  RETURN_IF_ERROR(CheckData(spec.data(), may_name_labels, kind->name, limits));
  // (A child may inherit validation_examples: CheckAgainstParent checks it.)
  if (kind->dependency == Dependency::kNone) RETURN_IF_ERROR(CheckEvaluationSplit(spec.data()));
  RETURN_IF_ERROR(CheckOptimizer(spec.optimizer()));
  RETURN_IF_ERROR(CheckTrain(spec.train(), world_size));
  RETURN_IF_ERROR(CheckCount("finetune.from_head_layer", spec.finetune().from_head_layer(), 4,
                             "encoder output"));
  if (spec.finetune().from_block() < 0 || spec.finetune().from_block() > 4) {
    return Invalid("finetune.from_block", absl::StrCat(spec.finetune().from_block()),
                   "an integer in [0, 4]: 0 trains the whole encoder, k its stages k..4");
  }
  if (spec.finetune().from_block() > 0 && spec.finetune().freeze_encoder()) {
    return Invalid("finetune.from_block", absl::StrCat(spec.finetune().from_block()),
                   "0 with freeze_encoder, which keeps the whole encoder fixed");
  }
  if (spec.has_distill()) {
    if (spec.distill().temperature() != 0) {
      RETURN_IF_ERROR(CheckPositiveUpTo("distill.temperature", spec.distill().temperature(), 100));
    }
    RETURN_IF_ERROR(CheckRange("distill.label_weight", spec.distill().label_weight(), 0.0, 1.0));
  }
  return absl::OkStatus();
}

void ApplyDefaults(const v1::JobSpec* inherited, v1::JobSpec& spec) {
  const JobKind& kind = KindOf(spec);
  if (!spec.has_world_size()) spec.set_world_size(1);
  if (spec.device().empty()) spec.set_device("cpu");
  if (!spec.has_max_restarts()) spec.set_max_restarts(2);

  // Network: finetune and linear_eval use the parent's; a distill job without
  // a model distils into the teacher's architecture (self-distillation);
  // otherwise the paper's ResNet-50 1x with a 3-layer head.
  v1::ModelSpec& model = *spec.mutable_model();
  if (inherited != nullptr && (kind.dependency == Dependency::kParent || !ModelIsSet(model))) {
    model = inherited->model();
  }
  if (model.depth() == 0) model.set_depth(50);
  if (!model.has_width_multiplier()) model.set_width_multiplier(1.0);
  if (!model.has_sk_ratio()) model.set_sk_ratio(0.0);
  if (!model.has_proj_head_layers()) model.set_proj_head_layers(3);
  if (model.proj_dim() == 0) model.set_proj_dim(128);

  v1::DataSpec& data = *spec.mutable_data();
  if (data.dataset().empty() && inherited != nullptr) {
    const v1::DataSpec& from = inherited->data();
    data.set_dataset(from.dataset());
    data.set_path(from.path());
  }
  // A pipeline shares one validation set: what the parent never trained on.
  if (data.validation_examples() == 0 && inherited != nullptr) {
    data.set_validation_examples(inherited->data().validation_examples());
  }
  if (data.evaluate_on().empty()) data.set_evaluate_on("test");
  if (data.dataset() == "fashion-mnist" && data.path().empty()) {
    data.set_path("/usr/share/datasets/fashion-mnist");
  }
  if (kind.labels == Labels::kTrainingSet && !data.has_label_fraction() &&
      data.label_index_file().empty()) {
    data.set_label_fraction(1.0);
  }
  if (data.loader_threads() == 0) data.set_loader_threads(2);

  // Optimiser defaults: the kind's recipe (common/job_kinds.h).
  v1::OptimizerSpec& opt = *spec.mutable_optimizer();
  const OptimizerDefaults& recipe = kind.defaults;
  if (opt.name().empty()) opt.set_name(recipe.name);
  if (opt.lr_scaling().empty()) opt.set_lr_scaling(recipe.lr_scaling);
  if (opt.base_lr() == 0) opt.set_base_lr(recipe.base_lr);
  if (!opt.has_weight_decay()) opt.set_weight_decay(recipe.weight_decay);
  if (!opt.has_momentum()) opt.set_momentum(0.9);
  if (!opt.has_warmup_epochs()) opt.set_warmup_epochs(recipe.warmup_epochs);
  // The official "momentum" optimizer is Nesterov's; LARS uses plain momentum.
  if (!opt.has_nesterov() && opt.name() == "sgd") opt.set_nesterov(true);

  v1::TrainSpec& train = *spec.mutable_train();
  if (train.batch_size() == 0) {
    train.set_batch_size(spec.world_size() * std::max(1, 256 / spec.world_size()));
  }
  if (train.epochs() == 0) train.set_epochs(recipe.epochs);
  if (train.temperature() == 0) train.set_temperature(0.1);
  if (train.precision().empty()) train.set_precision("fp32");
  if (!train.has_color_jitter_strength()) train.set_color_jitter_strength(1.0);
  if (!train.has_crop_area_min()) train.set_crop_area_min(0.08);  // the official crop
  if (train.memory_size() > 0 && !train.has_memory_momentum()) train.set_memory_momentum(0.999);
  if (train.eval_batch_size() == 0) train.set_eval_batch_size(256);

  // Each kind's own section: fine-tune from the head's first layer (the
  // paper's choice for 3-layer heads); distil at temperature 1.
  if (kind.section == std::string("finetune") && !spec.has_finetune()) {
    spec.mutable_finetune()->set_from_head_layer(1);
  }
  if (kind.section == std::string("distill") && spec.distill().temperature() == 0) {
    spec.mutable_distill()->set_temperature(1.0);
  }
}

absl::Status CheckAgainstParent(const v1::JobSpec& parent, const v1::JobSpec& spec) {
  const JobKind& kind = KindOf(spec);
  const JobKind& parent_kind = KindOf(parent);
  if (kind.trainable == Trainable::kUpToHeadLayer &&
      spec.finetune().from_head_layer() > parent.model().proj_head_layers()) {
    return Invalid("finetune.from_head_layer", absl::StrCat(spec.finetune().from_head_layer()),
                   absl::StrCat("an integer in [0, ", parent.model().proj_head_layers(),
                                "]: the parent's projection head has ",
                                parent.model().proj_head_layers(), " layers"));
  }
  if (kind.dependency == Dependency::kTeacher && !parent_kind.can_teach) {
    return Invalid("teacher", Quoted(spec.teacher()),
                   absl::StrCat("a job with a trained classifier, not a ", parent_kind.name,
                                " job"));
  }
  RETURN_IF_ERROR(CheckEvaluationSplit(spec.data()));
  if (kind.dependency == Dependency::kParent && !parent_kind.can_be_parent) {
    return Invalid("parent", Quoted(spec.parent()),
                   absl::StrCat("a job whose checkpoint holds an encoder and projection head (",
                                CanBeParentNames(), "), not a ", parent_kind.name, " job"));
  }
  return absl::OkStatus();
}

bool IsJobIdShaped(absl::string_view text) {
  if (!absl::ConsumePrefix(&text, "j-") || text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace simclr::coordinator
