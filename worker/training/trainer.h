// The training loop every job kind shares: data, forward/backward through an
// Objective, gradient averaging, optimizer step, cancellation, progress,
// metrics and checkpoints.
#ifndef SIMCLR_WORKER_TRAINING_TRAINER_H_
#define SIMCLR_WORKER_TRAINING_TRAINER_H_

#include <memory>
#include <string>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "model/data/loader.h"
#include "model/distributed/grad_sync.h"
#include "model/nn/simclr_model.h"
#include "model/optim/lr_schedule.h"
#include "model/optim/optimizer.h"
#include "proto/simclr/v1/job.pb.h"
#include "worker/task_runner.h"
#include "worker/training/objectives.h"
#include "worker/training/training_observer.h"

namespace c10d {
class ProcessGroup;
}  // namespace c10d

namespace simclr::worker {

struct TrainLoopOptions {
  int64_t start_step = 0;   // > 0 when resuming
  int64_t total_steps = 0;
  int64_t steps_per_epoch = 1;
  int64_t global_batch = 0;  // examples per step over all ranks
  int64_t checkpoint_every_steps = 0;  // 0: only the final checkpoint
  int64_t profile_step = 0;  // 0: none; else trace this step (1-based): ProfileFileName
  bool bf16 = false;        // autocast the forward pass to bfloat16
  torch::Device device = torch::kCPU;
  std::string artifact_dir;  // rank 0 writes ckpt-<step>.simclr here
  v1::JobSpec spec;          // stored in every checkpoint
  int rank = 0;
  int world_size = 1;
};

// Everything a loop works on. Not owned: all must outlive RunTrainLoop.
struct TrainLoopParts {
  model::SimclrModel model{nullptr};
  Objective* objective = nullptr;
  model::Optimizer* optimizer = nullptr;
  model::GradientSynchronizer* gradients = nullptr;
  const model::LrSchedule* schedule = nullptr;
  model::BatchLoader* loader = nullptr;
  c10d::ProcessGroup* group = nullptr;  // null: world size 1
  TaskContext* context = nullptr;
  TrainingObserver* observer = nullptr;  // may be null
  const Clock* clock = nullptr;
  TaskLabels labels;
};

// Runs steps [start_step, total_steps). Contract for a gang: every rank runs
// it with the same options (but its own rank) and loader shard. After each
// step the ranks agree, through one small allreduce, on the mean loss and on
// whether any rank was cancelled, so they stop at the same step and nobody is
// left waiting in a collective. Rank 0 writes a checkpoint every
// checkpoint_every_steps, at the end, and (when checkpoint_every_steps > 0)
// at the step where the gang agreed to stop, and reports each to the context.
//
// A rank that fails outside that vote (loader, forward, checkpoint write)
// returns at once and its process group is destroyed with it; its peers then
// fail in their next collective as the connections close, and at the latest
// after the group's timeout.
//
// Returns the final checkpoint path on rank 0 ("" elsewhere). Errors:
// Cancelled when the task was cancelled; Internal for a non-finite loss
// (naming the step) or a LibTorch failure; the loader's and collectives'
// errors as they are.
absl::StatusOr<std::string> RunTrainLoop(const TrainLoopOptions& options,
                                         const TrainLoopParts& parts);

// Writes model, optimizer and objective state to <dir>/ckpt-<step>.simclr.
// Returns the path.
absl::StatusOr<std::string> SaveTrainingCheckpoint(const std::string& dir, int64_t step,
                                                   double epoch, model::SimclrModelImpl& model,
                                                   const model::Optimizer& optimizer,
                                                   const Objective& objective,
                                                   const v1::JobSpec& spec);

// Restores what SaveTrainingCheckpoint wrote; returns the step it was taken at.
absl::StatusOr<int64_t> RestoreTrainingCheckpoint(const std::string& path,
                                                  model::SimclrModelImpl& model,
                                                  model::Optimizer& optimizer,
                                                  Objective& objective);

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_TRAINING_TRAINER_H_
