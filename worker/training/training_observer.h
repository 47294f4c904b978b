// What a training loop tells the worker's metrics (Prometheus) about itself.
// Torch-free, so the metrics code compiles without LibTorch.
#ifndef SIMCLR_WORKER_TRAINING_TRAINING_OBSERVER_H_
#define SIMCLR_WORKER_TRAINING_TRAINING_OBSERVER_H_

#include <map>
#include <string>

namespace simclr::worker {

struct TaskLabels {
  std::string job;   // job id
  std::string kind;  // pretrain, finetune, ...
  int rank = 0;
};

struct StepStats {
  int64_t step = 0;  // steps done, 1-based
  int64_t total_steps = 0;
  double epoch = 0;
  double loss = 0;   // mean over ranks
  double learning_rate = 0;
  double images_per_second = 0;  // whole gang, views counted as images
  // Where this rank's step time went.
  double data_wait_seconds = 0;    // waiting for the loader
  double compute_seconds = 0;      // forward + backward (incl. sync BN, gather)
  double communication_seconds = 0;  // gradient allreduce + stop vote
  std::map<std::string, double> extra;  // objective metrics, e.g. contrastive accuracy
};

// Thread-safe implementations; called from the training thread.
class TrainingObserver {
 public:
  virtual ~TrainingObserver() = default;
  virtual void OnStep(const TaskLabels& task, const StepStats& stats) = 0;
  virtual void OnCheckpoint(const TaskLabels& task, double write_seconds) = 0;
  virtual void OnEvaluation(const TaskLabels& task, double top1, double top5) = 0;
  virtual void OnTaskEnd(const TaskLabels& task) = 0;
};

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_TRAINING_TRAINING_OBSERVER_H_
