#include "worker/training/training_runner.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <utility>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/types.h>
#include <torch/utils.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/data_roots.h"
#include "common/job_kinds.h"
#include "common/status_macros.h"
#include "model/augment/simclr_augment.h"
#include "model/checkpoint/checkpoint.h"
#include "model/data/open_dataset.h"
#include "model/data/subset.h"
#include "model/distributed/batch_norm.h"
#include "model/distributed/process_group.h"
#include "model/optim/lars.h"
#include "worker/training/evaluate.h"
#include "worker/training/model_setup.h"
#include "worker/training/trainer.h"

namespace simclr::worker {
namespace {

absl::StatusOr<std::unique_ptr<model::Optimizer>> MakeOptimizer(
    const v1::OptimizerSpec& spec, std::vector<model::ParamGroup> groups) {
  if (spec.name() == "sgd") {
    model::MomentumSgdOptions options;
    options.momentum = spec.momentum();
    options.weight_decay = spec.weight_decay();
    options.nesterov = spec.nesterov();
    ASSIGN_OR_RETURN(auto sgd, model::MomentumSgd::Create(std::move(groups), options));
    return std::unique_ptr<model::Optimizer>(std::move(sgd));
  }
  model::LarsOptions options;
  options.momentum = spec.momentum();
  options.weight_decay = spec.weight_decay();
  ASSIGN_OR_RETURN(auto lars, model::Lars::Create(std::move(groups), options));
  return std::unique_ptr<model::Optimizer>(std::move(lars));
}

// An allocation that failed (host memory: LibTorch's "can't allocate
// memory", std::bad_alloc; device memory: "CUDA out of memory") becomes
// ResourceExhausted starting with "out of memory", wherever it was caught.
absl::Status NameOutOfMemory(const absl::Status& status) {
  const absl::string_view message = status.message();
  const bool oom = absl::IsResourceExhausted(status) ||
                   absl::StrContains(message, "can't allocate memory") ||
                   absl::StrContains(message, "out of memory");
  if (!oom || absl::StartsWith(message, "out of memory")) return status;
  return absl::ResourceExhaustedError(absl::StrCat("out of memory: ", message));
}

absl::StatusOr<TaskResult> RunTask(const v1::TaskAssignment& task, TaskContext& context,
                                   const TrainingRunnerOptions& runner,
                                   TrainingObserver* observer, const Clock& clock) {
  const v1::JobSpec& spec = task.spec();
  const JobKind* kind = FindJobKind(spec.kind());
  if (kind == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("kind: \"", spec.kind(), "\" is none of ", JobKindNames()));
  }
  const torch::Device device(runner.device);
  const int rank = task.rank();
  const int world = std::max(1, task.world_size());
  const bool bf16 = spec.train().precision() == "bf16";
  // Same seed on every rank: identical initial weights without a broadcast.
  torch::manual_seed(static_cast<uint64_t>(spec.train().seed()));

  // Data, from where the operator allows only.
  RETURN_IF_ERROR(CheckUnderDataRoots("data.path", spec.data().path(), runner.data_roots,
                                      /*resolve_links=*/true));
  if (!spec.data().label_index_file().empty()) {
    RETURN_IF_ERROR(CheckUnderDataRoots("data.label_index_file", spec.data().label_index_file(),
                                        runner.data_roots, /*resolve_links=*/true));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<model::Dataset> train,
                   model::OpenDataset(spec.data().dataset(), spec.data().path(), "train"));
  ASSIGN_OR_RETURN(std::unique_ptr<model::Dataset> test,
                   model::OpenDataset(spec.data().dataset(), spec.data().path(), "test"));
  // data.max_train_examples limits the split first (a prefix), then the
  // labelled subset is drawn from what is left.
  model::SubsetOptions prefix;
  prefix.max_examples = spec.data().max_train_examples();
  ASSIGN_OR_RETURN(std::unique_ptr<model::SubsetDataset> split,
                   model::MakeSubset(train.get(), prefix));
  ASSIGN_OR_RETURN(TrainingSplit parts_of_split, CarveValidation(split.get(), spec.data()));
  ASSIGN_OR_RETURN(std::unique_ptr<model::Dataset> examples,
                   TrainingExamples(parts_of_split.pool.get(), *kind, spec));
  const bool on_validation = spec.data().evaluate_on() == "validation";
  if (on_validation && parts_of_split.validation->size() == 0) {
    return absl::InvalidArgumentError(
        "data.evaluate_on: validation, but data.validation_examples holds out no image");
  }
  const int64_t image_size = spec.model().image_size() > 0 ? spec.model().image_size()
                                                           : train->height();
  const int64_t global_batch = spec.train().batch_size();
  if (global_batch <= 0 || global_batch % world != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "train.batch_size: got ", global_batch, ", expected a positive multiple of ", world));
  }
  const int64_t steps_per_epoch = examples->size() / global_batch;
  if (steps_per_epoch == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("train.batch_size: ", global_batch, " is larger than the ",
                     examples->size(), " training examples this job has"));
  }
  int64_t total_steps =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(spec.train().epochs() * steps_per_epoch)));
  if (spec.train().max_steps() > 0) total_steps = std::min(total_steps, spec.train().max_steps());

  const bool channels_last = spec.train().has_channels_last()
                                 ? spec.train().channels_last()
                                 : PrefersChannelsLast(device, bf16);
  // Network, and where it starts from. (A memory of negatives needs a second
  // one of the same architecture: its key network.)
  auto job_network = [&]() -> absl::StatusOr<model::SimclrModel> {
    ASSIGN_OR_RETURN(model::SimclrModel network,
                     model::MakeSimclrModel(ModelOptionsFor(spec.model(), spec, train->channels(),
                                                            image_size, train->num_classes())));
    network->to(device);
    if (channels_last) model::UseChannelsLast(*network);
    return network;
  };
  ASSIGN_OR_RETURN(model::SimclrModel net, job_network());
  if (kind->dependency == Dependency::kParent) {
    if (task.parent_checkpoint().empty()) {
      return absl::FailedPreconditionError("the parent job left no checkpoint to start from");
    }
    RETURN_IF_ERROR(LoadEncoderAndHead(task.parent_checkpoint(), *net));
  }
  model::SimclrModel teacher{nullptr};
  if (kind->dependency == Dependency::kTeacher) {
    if (task.teacher_checkpoint().empty()) {
      return absl::FailedPreconditionError("the teacher job left no checkpoint");
    }
    ASSIGN_OR_RETURN(teacher, LoadWholeModel(task.teacher_checkpoint(), train->channels(),
                                             image_size, train->num_classes()));
    teacher->to(device);
    if (channels_last) model::UseChannelsLast(*teacher);
  }

  // The gang.
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  if (world > 1 || spec.train().force_process_group()) {
    model::ProcessGroupOptions pg;
    pg.rank = rank;
    pg.world_size = world;
    pg.master_address = task.rendezvous_address();
    pg.prefix = task.rendezvous_prefix();
    pg.timeout = absl::Milliseconds(task.collective_timeout_ms() > 0 ? task.collective_timeout_ms()
                                                                     : 300000);
    pg.backend = device.is_cuda() ? "nccl" : "gloo";
    pg.local_address = runner.local_address;
    ASSIGN_OR_RETURN(group, model::CreateProcessGroup(pg));
    std::fprintf(stderr, "simclr-trainer: %s process group, rank %d of %d, rendezvous %s\n",
                 pg.backend.c_str(), rank, world, pg.master_address.c_str());
    model::SetBatchNormProcessGroup(*net, group.get());
  }

  // Optimizer and schedule over the parameters this kind trains.
  // Contrastive training runs the whole head (its output is the embedding);
  // the others run it up to their classifier's layer. A contrastive job's
  // classifier is a monitoring probe sharing the encoder's large rate, which
  // LARS's trust ratio keeps stable (model_setup.h).
  const bool contrastive = kind->objective == ObjectiveKind::kContrastive;
  const Frozen frozen = FrozenParts(*kind, spec);
  const int head_layers_used = contrastive ? spec.model().proj_head_layers() : ClassifierLayer(spec);
  std::vector<model::ParamGroup> groups =
      TrainableParameters(*net, head_layers_used, frozen, /*adapt_classifier=*/contrastive);
  std::vector<torch::Tensor> trained;
  for (const model::ParamGroup& g : groups) {
    trained.insert(trained.end(), g.params.begin(), g.params.end());
  }
  ASSIGN_OR_RETURN(std::unique_ptr<model::Optimizer> optimizer,
                   MakeOptimizer(spec.optimizer(), std::move(groups)));
  ASSIGN_OR_RETURN(model::LrScaling scaling, model::ParseLrScaling(spec.optimizer().lr_scaling()));
  model::LrScheduleOptions schedule_options;
  schedule_options.base_learning_rate = spec.optimizer().base_lr();
  schedule_options.scaling = scaling;
  schedule_options.batch_size = global_batch;
  schedule_options.total_steps = total_steps;
  schedule_options.warmup_steps = std::min<int64_t>(
      total_steps, std::llround(spec.optimizer().warmup_epochs() * steps_per_epoch));
  ASSIGN_OR_RETURN(model::LrSchedule schedule, model::LrSchedule::Create(schedule_options));
  model::GradientSynchronizer gradients(trained, group.get());

  // The objective, before resuming: its own state is in the checkpoint too.
  std::unique_ptr<Objective> objective;
  switch (kind->objective) {
    case ObjectiveKind::kContrastive: {
      MemoryOptions memory;
      memory.size = spec.train().memory_size();
      memory.momentum = spec.train().memory_momentum();
      if (memory.size > 0) {
        ASSIGN_OR_RETURN(memory.key, job_network());
        if (group) model::SetBatchNormProcessGroup(*memory.key, group.get());
      }
      ASSIGN_OR_RETURN(objective, MakePretrainObjective(net, spec.train().temperature(),
                                                        group.get(), std::move(memory)));
      break;
    }
    case ObjectiveKind::kDistillation:
      objective = MakeDistillObjective(net, teacher, spec.distill().temperature(),
                                       spec.distill().label_weight());
      break;
    case ObjectiveKind::kClassifier:
      objective = MakeClassifierObjective(net, frozen);
      break;
  }

  int64_t start_step = 0;
  std::string resumed_from = task.resume_checkpoint();
  if (!resumed_from.empty()) {
    absl::StatusOr<int64_t> restored =
        RestoreTrainingCheckpoint(resumed_from, *net, *optimizer, *objective);
    if (!restored.ok()) {
      // Torn or corrupt (every checkpoint is CRC-checked): the newest good
      // one that the same attempt wrote instead. Every rank reads the same
      // directory, so the gang agrees on it.
      const std::string torn = resumed_from;
      const std::string why(restored.status().message());
      std::fprintf(stderr, "simclr-trainer: cannot resume from %s (%s); looking for the newest "
                   "good checkpoint\n", torn.c_str(), why.c_str());
      ASSIGN_OR_RETURN(resumed_from,
                       model::LatestCheckpoint(std::filesystem::path(torn).parent_path().string()));
      restored = RestoreTrainingCheckpoint(resumed_from, *net, *optimizer, *objective);
      // The job's events say so too (rank 0 speaks for the gang).
      if (rank == 0 && restored.ok()) {
        context.Note(absl::StrCat("cannot resume from ", torn, " (", why, "); resumed from ",
                                  resumed_from, ", the newest good checkpoint"));
      }
    }
    ASSIGN_OR_RETURN(start_step, std::move(restored));
    std::fprintf(stderr, "simclr-trainer: %s resumes at step %lld from %s\n",
                 task.task_id().c_str(), static_cast<long long>(start_step),
                 resumed_from.c_str());
  }

  // Input pipeline: this rank's shard, augmented on background threads.
  ASSIGN_OR_RETURN(std::unique_ptr<model::SimclrAugmenter> augmenter,
                   model::SimclrAugmenter::Create(TrainingAugmentation(*kind, spec, image_size)));
  model::LoaderOptions loader_options;
  loader_options.shard.global_batch = global_batch;
  loader_options.shard.world_size = world;
  loader_options.shard.rank = rank;
  loader_options.shard.seed = static_cast<uint64_t>(spec.train().seed());
  loader_options.start_step = start_step;
  loader_options.end_step = total_steps;
  loader_options.num_threads = std::max(1, spec.data().loader_threads());
  loader_options.pin_memory = device.is_cuda();
  ASSIGN_OR_RETURN(
      std::unique_ptr<model::BatchLoader> loader,
      model::BatchLoader::Create(
          examples.get(),
          model::MakeAugmentTransform(std::move(augmenter), kind->contrastive_views ? 2 : 1),
          loader_options));

  // NOTE [attempt fencing]: this attempt writes only under its own
  // directory, so a gang of an earlier attempt that still runs (partitioned,
  // not yet told) never overwrites what this one writes.
  const std::string attempt_dir = model::AttemptDirectory(task.artifact_dir(), task.attempt());
  std::error_code ec;
  std::filesystem::create_directories(attempt_dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create artifact directory ", attempt_dir, ": ", ec.message()));
  }
  if (rank == 0) {
    // Checkpoints half-written by earlier attempts that died mid-write.
    for (int earlier = 1; earlier < task.attempt(); ++earlier) {
      absl::StatusOr<int> removed = model::RemoveTemporaryCheckpoints(
          model::AttemptDirectory(task.artifact_dir(), earlier));
      if (removed.ok() && *removed > 0) {
        std::fprintf(stderr, "simclr-trainer: removed %d half-written checkpoint(s) of attempt %d\n",
                     *removed, earlier);
      }
    }
  }

  TrainLoopOptions loop;
  loop.start_step = start_step;
  loop.total_steps = total_steps;
  loop.steps_per_epoch = steps_per_epoch;
  loop.global_batch = global_batch;
  loop.checkpoint_every_steps = spec.train().checkpoint_every_steps();
  loop.profile_step = spec.train().profile_step();
  loop.bf16 = bf16;
  loop.device = device;
  loop.artifact_dir = attempt_dir;
  loop.spec = spec;
  loop.rank = rank;
  loop.world_size = world;
  TrainLoopParts parts;
  parts.model = net;
  parts.objective = objective.get();
  parts.optimizer = optimizer.get();
  parts.gradients = &gradients;
  parts.schedule = &schedule;
  parts.loader = loader.get();
  parts.group = group.get();
  parts.context = &context;
  parts.observer = observer;
  parts.clock = &clock;
  parts.labels = TaskLabels{task.job_id(), spec.kind(), rank};

  TaskResult result;
  ASSIGN_OR_RETURN(result.checkpoint, RunTrainLoop(loop, parts));
  if (start_step >= total_steps && rank == 0) result.checkpoint = resumed_from;

  EvaluateOptions eval;
  eval.batch_size = spec.train().eval_batch_size();
  eval.image_size = image_size;
  eval.max_examples = spec.data().max_test_examples();
  eval.bf16 = bf16;
  eval.device = device;
  eval.rank = rank;
  eval.world_size = world;
  const model::Dataset& evaluated =
      on_validation ? static_cast<const model::Dataset&>(*parts_of_split.validation) : *test;
  ASSIGN_OR_RETURN(Accuracy accuracy, Evaluate(*net, evaluated, eval, group.get()));
  result.metrics["top1"] = accuracy.top1;
  result.metrics["top5"] = accuracy.top5;
  // How many images top1/top5 were measured on, named by the split.
  result.metrics[on_validation ? "validation_examples" : "test_examples"] =
      static_cast<double>(accuracy.examples);
  if (observer != nullptr) observer->OnEvaluation(parts.labels, accuracy.top1, accuracy.top5);
  if (group) group->barrier()->wait();  // rank 0 serves the store: leave together
  return result;
}

}  // namespace

TrainingRunner::TrainingRunner(TrainingRunnerOptions options, TrainingObserver* observer,
                               const Clock* clock)
    : options_(std::move(options)), observer_(observer), clock_(clock) {}

absl::StatusOr<TaskResult> TrainingRunner::Run(const v1::TaskAssignment& task,
                                               TaskContext& context) {
  absl::StatusOr<TaskResult> result;
  try {
    result = RunTask(task, context, options_, observer_, *clock_);
  } catch (const c10::Error& e) {
    result = absl::InternalError(e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    result = absl::ResourceExhaustedError("std::bad_alloc");
  } catch (const std::exception& e) {
    result = absl::InternalError(e.what());
  }
  if (!result.ok()) result = NameOutOfMemory(result.status());
  if (observer_ != nullptr) observer_->OnTaskEnd(TaskLabels{task.job_id(), task.spec().kind(), task.rank()});
  return result;
}

}  // namespace simclr::worker
