#include "worker/training/trainer.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <utility>

#include <ATen/record_function.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "model/checkpoint/checkpoint.h"
#include "model/checkpoint/checkpoint_files.h"
#include "model/checkpoint/export.h"
#include "model/distributed/collectives.h"
#include "model/nn/autocast_scope.h"
#include "worker/training/model_setup.h"

namespace simclr::worker {
namespace {

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

}  // namespace

absl::StatusOr<std::string> SaveTrainingCheckpoint(const std::string& dir, int64_t step,
                                                   double epoch, model::SimclrModelImpl& model,
                                                   const model::Optimizer& optimizer,
                                                   const Objective& objective,
                                                   const v1::JobSpec& spec) {
  model::Checkpoint checkpoint;
  checkpoint.step = step;
  checkpoint.epoch = static_cast<int64_t>(epoch);
  checkpoint.metadata = spec.SerializeAsString();
  RETURN_IF_ERROR(model::ExportModuleState(model, model::kModelPrefix, &checkpoint));
  for (const auto& [name, tensor] : optimizer.StateDict()) {
    checkpoint.tensors[model::kOptimizerPrefix + name] = tensor;
  }
  for (const auto& [name, tensor] : objective.StateDict()) {
    checkpoint.tensors[model::kObjectivePrefix + name] = tensor;
  }
  const std::string path = dir + "/" + model::CheckpointFileName(step);
  RETURN_IF_ERROR(model::SaveCheckpoint(path, checkpoint));
  return path;
}

absl::StatusOr<int64_t> RestoreTrainingCheckpoint(const std::string& path,
                                                  model::SimclrModelImpl& model,
                                                  model::Optimizer& optimizer,
                                                  Objective& objective) {
  ASSIGN_OR_RETURN(model::Checkpoint checkpoint, model::LoadCheckpoint(path));
  RETURN_IF_ERROR(ImportFromCheckpoint(checkpoint, path, model::kModelPrefix, model));
  // The tensors under `prefix`, without it.
  auto under = [&checkpoint](const std::string& prefix) {
    std::map<std::string, torch::Tensor> state;
    for (const auto& [name, tensor] : checkpoint.tensors) {
      if (name.rfind(prefix, 0) == 0) state[name.substr(prefix.size())] = tensor;
    }
    return state;
  };
  absl::Status loaded = optimizer.LoadStateDict(under(model::kOptimizerPrefix));
  if (loaded.ok()) loaded = objective.LoadStateDict(under(model::kObjectivePrefix));
  if (!loaded.ok()) return absl::Status(loaded.code(), absl::StrCat(path, ": ", loaded.message()));
  return checkpoint.step;
}

absl::StatusOr<std::string> RunTrainLoop(const TrainLoopOptions& options,
                                         const TrainLoopParts& parts) {
  const Clock& clock = *parts.clock;
  model::SimclrModel holder = parts.model;  // shares the module
  model::SimclrModelImpl& model = *holder;
  model.train();
  std::string last_checkpoint;
  double images_per_second = 0;
  // Rank 0 keeps a per-step log next to the checkpoints (one JSON object per
  // line), the job's training curve for later comparison and plotting.
  const std::string step_log_path = absl::StrCat(options.artifact_dir, "/", model::kStepLogName);
  std::ofstream step_log;
  if (options.rank == 0) {
    step_log.open(step_log_path, std::ios::app);
    if (!step_log) {
      return absl::UnavailableError(
          absl::StrCat("opening the step log ", step_log_path, ": ", std::strerror(errno)));
    }
  }
  const int views = parts.objective->views_per_example();

  for (int64_t step = options.start_step; step < options.total_steps; ++step) {
    // The step's trace is written when `profile` is reset, after the vote.
    std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
    if (step + 1 == options.profile_step) {
      profile = std::make_unique<torch::autograd::profiler::RecordProfile>(
          absl::StrCat(options.artifact_dir, "/", model::ProfileFileName(options.rank)));
    }
    const absl::Time start = clock.Now();
    ASSIGN_OR_RETURN(model::Batch batch, parts.loader->Next());
    const absl::Time loaded = clock.Now();

    torch::Tensor inputs = batch.inputs.to(options.device, /*non_blocking=*/true);
    torch::Tensor labels = batch.labels.to(options.device, /*non_blocking=*/true);
    if (options.device.is_cpu() && !options.bf16) inputs = inputs.contiguous();

    ObjectiveOutput out;
    try {
      parts.optimizer->ZeroGrad();
      {
        model::AutocastScope autocast(options.bf16, options.device);
        RECORD_USER_SCOPE("forward");
        ASSIGN_OR_RETURN(out, parts.objective->Forward(inputs, labels));
      }
      RECORD_USER_SCOPE("backward");
      out.loss.backward();
    } catch (const c10::Error& e) {
      return absl::InternalError(absl::StrCat("step ", step + 1, ": ", e.what_without_backtrace()));
    }
    const absl::Time computed = clock.Now();

    const double lr = parts.schedule->LearningRate(step);
    {
      RECORD_USER_SCOPE("gradient_sync");
      RETURN_IF_ERROR(parts.gradients->Synchronize());
    }
    {
      RECORD_USER_SCOPE("optimizer");
      RETURN_IF_ERROR(parts.optimizer->Step(lr));
    }

    // One allreduce agrees on the gang's mean loss and on stopping.
    double loss = out.loss.item<double>();
    bool stop = parts.context->cancelled();
    if (parts.group != nullptr && options.world_size > 1) {
      try {
        torch::Tensor vote = torch::tensor({loss, stop ? 1.0 : 0.0}, torch::kFloat64);
        if (options.device.is_cuda()) vote = vote.to(options.device);
        model::AllReduceSumInPlace(vote, parts.group);
        vote = vote.cpu();
        loss = vote[0].item<double>() / options.world_size;
        stop = vote[1].item<double>() > 0;
      } catch (const c10::Error& e) {
        return absl::UnavailableError(
            absl::StrCat("step ", step + 1, ": a peer is gone: ", e.what_without_backtrace()));
      }
    }
    const absl::Time synced = clock.Now();
    profile.reset();
    if (!std::isfinite(loss)) {
      return absl::InternalError(absl::StrCat("loss is ", loss, " at step ", step + 1,
                                              "; lower optimizer.base_lr or use fp32"));
    }

    const double step_seconds = Seconds(synced - start);
    const double rate = step_seconds > 0 ? options.global_batch * views / step_seconds : 0;
    images_per_second = images_per_second == 0 ? rate : 0.9 * images_per_second + 0.1 * rate;

    StepStats stats;
    stats.step = step + 1;
    stats.total_steps = options.total_steps;
    stats.epoch = static_cast<double>(step + 1) / options.steps_per_epoch;
    stats.loss = loss;
    stats.learning_rate = lr;
    stats.images_per_second = images_per_second;
    stats.data_wait_seconds = Seconds(loaded - start);
    stats.compute_seconds = Seconds(computed - loaded);
    stats.communication_seconds = Seconds(synced - computed);
    stats.extra = out.metrics;
    if (parts.observer != nullptr) parts.observer->OnStep(parts.labels, stats);
    if (step_log.is_open()) {
      step_log << absl::StrFormat(
                      "{\"step\": %d, \"epoch\": %.6g, \"time\": %.6f, \"loss\": %.17g, "
                      "\"lr\": %.17g, \"images_per_second\": %.6g, "
                      "\"data_wait_seconds\": %.6f, \"compute_seconds\": %.6f, "
                      "\"communication_seconds\": %.6f}\n",
                      stats.step, stats.epoch, absl::ToUnixMicros(synced) / 1e6, loss, lr,
                      images_per_second, stats.data_wait_seconds, stats.compute_seconds,
                      stats.communication_seconds)
               << std::flush;
      if (!step_log) {
        // A full disk or a lost mount: fail the attempt rather than train on
        // with a curve that has holes.
        return absl::UnavailableError(absl::StrCat("writing the step log ", step_log_path,
                                                   " at step ", step + 1, ": ",
                                                   std::strerror(errno)));
      }
    }

    if (stop) {
      // Every rank saw the vote and stops after this step. Rank 0 keeps the
      // step (when the job checkpoints at all), so a gang that is drained
      // or restarted loses nothing it agreed on.
      if (options.rank == 0 && options.checkpoint_every_steps > 0) {
        const double epoch = static_cast<double>(step + 1) / options.steps_per_epoch;
        ASSIGN_OR_RETURN(std::string checkpoint,
                         SaveTrainingCheckpoint(options.artifact_dir, step + 1, epoch, model,
                                                *parts.optimizer, *parts.objective,
                                                options.spec));
        v1::Progress progress;
        progress.set_step(step + 1);
        progress.set_total_steps(options.total_steps);
        progress.set_epoch(epoch);
        parts.context->Report(progress, {}, checkpoint);
      }
      return absl::CancelledError(absl::StrCat("cancelled at step ", step + 1));
    }

    std::string checkpoint;
    const bool last = step + 1 == options.total_steps;
    const bool periodic = options.checkpoint_every_steps > 0 &&
                          (step + 1) % options.checkpoint_every_steps == 0;
    if (options.rank == 0 && (last || periodic)) {
      const absl::Time before = clock.Now();
      ASSIGN_OR_RETURN(checkpoint, SaveTrainingCheckpoint(options.artifact_dir, step + 1,
                                                          stats.epoch, model, *parts.optimizer,
                                                          *parts.objective, options.spec));
      if (parts.observer != nullptr) {
        parts.observer->OnCheckpoint(parts.labels, Seconds(clock.Now() - before));
      }
      last_checkpoint = checkpoint;
      // What users take away (NOTE [export format]); selective-kernel
      // networks have no torchvision form and keep only the checkpoint.
      if (last && model.options().resnet.sk_ratio == 0) {
        RETURN_IF_ERROR(model::ExportForPyTorch(
            model, absl::StrCat(options.artifact_dir, "/", model::kExportFileName)));
      }
    }

    v1::Progress progress;
    progress.set_step(step + 1);
    progress.set_total_steps(options.total_steps);
    progress.set_epoch(stats.epoch);
    std::map<std::string, double> metrics = out.metrics;
    metrics["loss"] = loss;
    metrics["lr"] = lr;
    metrics["images_per_second"] = images_per_second;
    metrics["epoch"] = stats.epoch;
    parts.context->Report(progress, metrics, checkpoint);
  }
  return last_checkpoint;
}

}  // namespace simclr::worker
