#include "worker/agent.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/version.h"
#include "model/checkpoint/checkpoint_files.h"

namespace simclr::worker {

namespace {

// Checkpoints of an attempt kept once one is acknowledged.
constexpr int kCheckpointsKept = 3;
// A report the coordinator did not answer is resent after this (or after
// progress_interval, if longer).
constexpr absl::Duration kResendBackoff = absl::Milliseconds(200);

// Deletes the older checkpoints beside `recorded`, which the coordinator has
// acknowledged (NOTE [checkpoint retention]). Failures are logged: a
// checkpoint left behind costs disk, not correctness.
void PruneCheckpoints(const std::string& recorded) {
  const size_t slash = recorded.find_last_of('/');
  if (slash == std::string::npos) return;
  absl::Status pruned = model::KeepLastCheckpoints(recorded.substr(0, slash),
                                                   kCheckpointsKept, recorded);
  if (!pruned.ok() && !absl::IsNotFound(pruned)) {
    std::fprintf(stderr, "simclr-worker: pruning checkpoints beside %s: %s\n", recorded.c_str(),
                 pruned.ToString().c_str());
  }
}

}  // namespace

// The TaskContext of one task: a cancel flag, and progress reports that a
// thread of their own sends, so that Report never waits on the coordinator
// (a slow or absent coordinator must not stall a training step). Reports are
// coalesced: the newest progress goes out at most every progress_interval,
// a new checkpoint or a note at once.
//
// NOTE [checkpoint retention]: a checkpoint rides on every report until the
// coordinator has acknowledged one that carries it, so a report lost while
// the coordinator is away is made good by the next one. Only then are older
// checkpoints of the attempt deleted (all but the newest
// kCheckpointsKept, never the acknowledged one): the checkpoint the
// coordinator has recorded, which the next attempt resumes from, always
// exists, however long the coordinator was away.
class Agent::Context final : public TaskContext {
 public:
  Context(Agent* agent, std::string task_id) : agent_(agent), task_id_(std::move(task_id)) {
    sender_ = std::thread(&Context::SendLoop, this);
  }

  ~Context() override { Flush(); }

  bool cancelled() const override { return cancelled_.load(); }

  void Cancel(const std::string& why) {
    absl::MutexLock lock(&mu_);
    if (!cancelled_.exchange(true)) cancel_reason_ = why;
  }

  std::string cancel_reason() const {
    absl::MutexLock lock(&mu_);
    return cancel_reason_;
  }

  void Report(const v1::Progress& progress, const std::map<std::string, double>& metrics,
              const std::string& checkpoint) override {
    absl::MutexLock lock(&mu_);
    v1::ReportProgressRequest& pending = Pending();
    *pending.mutable_progress() = progress;
    pending.clear_metrics();
    for (const auto& [name, value] : metrics) (*pending.mutable_metrics())[name] = value;
    // A newer checkpoint supersedes one not yet acknowledged: the
    // coordinator needs only the latest.
    if (!checkpoint.empty()) {
      unacknowledged_checkpoint_ = checkpoint;
      urgent_ = true;
    }
    woken_ = true;
  }

  void Note(const std::string& what) override {
    absl::MutexLock lock(&mu_);
    Pending().add_notes(what);
    urgent_ = true;
    woken_ = true;
  }

  // Sends what is pending (once more, if the coordinator is away) and stops
  // the sender. Called when the task ended, before its result is reported.
  void Flush() {
    {
      absl::MutexLock lock(&mu_);
      closing_ = true;
      woken_ = true;
    }
    if (sender_.joinable()) sender_.join();
  }

 private:
  // The report waiting to be sent, made if there is none.
  v1::ReportProgressRequest& Pending() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!pending_.has_value()) {
      pending_.emplace();
      pending_->set_task_id(task_id_);
    }
    return *pending_;
  }

  void SendLoop() {
    const Clock& clock = *agent_->clock_;
    mu_.Lock();
    for (;;) {
      if (pending_.has_value()) {
        const bool urgent = closing_ || urgent_;
        const absl::Duration wait =
            urgent ? absl::ZeroDuration()
                   : std::max(last_sent_ + agent_->options_.progress_interval, resend_after_) -
                         clock.Now();
        if (wait <= absl::ZeroDuration()) {
          v1::ReportProgressRequest request = std::move(*pending_);
          pending_.reset();
          request.set_checkpoint(unacknowledged_checkpoint_);
          urgent_ = false;
          last_sent_ = clock.Now();
          const bool last = closing_;
          mu_.Unlock();
          const bool acknowledged = Send(request);
          mu_.Lock();
          if (acknowledged && !request.checkpoint().empty()) {
            if (unacknowledged_checkpoint_ == request.checkpoint()) {
              unacknowledged_checkpoint_.clear();
            }
            mu_.Unlock();
            PruneCheckpoints(request.checkpoint());
            mu_.Lock();
          } else if (!acknowledged && !last) {
            if (!pending_.has_value()) {
              // Nothing newer to carry the checkpoint: resend this report
              // after a pause.
              pending_ = std::move(request);
            } else {
              // A newer report carries the checkpoint; the notes go with it.
              for (const std::string& note : request.notes()) pending_->add_notes(note);
            }
            resend_after_ = clock.Now() + std::max(agent_->options_.progress_interval,
                                                   kResendBackoff);
          }
          if (last) break;
          continue;
        }
        woken_ = false;
        clock.AwaitFor(mu_, absl::Condition(&woken_), wait);
      } else if (closing_) {
        break;
      } else {
        woken_ = false;
        mu_.Await(absl::Condition(&woken_));
      }
    }
    mu_.Unlock();
  }

  // True when the coordinator answered. Sent as the worker's current id: it
  // changes when the worker registers again (NOTE [reconciliation]).
  bool Send(v1::ReportProgressRequest& request) {
    const auto [worker_id, incarnation] = agent_->Registration();
    request.set_worker_id(worker_id);
    request.set_coordinator_incarnation(incarnation);
    absl::StatusOr<v1::ReportProgressResponse> response =
        agent_->connection_->ReportProgress(request);
    if (response.ok() && response->cancelled()) Cancel("the coordinator cancelled the task");
    return response.ok();
  }

  Agent* const agent_;
  const std::string task_id_;
  std::atomic<bool> cancelled_{false};
  mutable absl::Mutex mu_;
  std::string cancel_reason_ ABSL_GUARDED_BY(mu_);
  std::optional<v1::ReportProgressRequest> pending_ ABSL_GUARDED_BY(mu_);
  std::string unacknowledged_checkpoint_ ABSL_GUARDED_BY(mu_);
  bool urgent_ ABSL_GUARDED_BY(mu_) = false;  // a new checkpoint or a note: send at once
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_sent_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time resend_after_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::thread sender_;
};

Agent::Agent(AgentOptions options, CoordinatorConnection* connection, TaskRunner* runner,
             const Clock* clock)
    : options_(std::move(options)),
      connection_(connection),
      runner_(runner),
      clock_(clock),
      heartbeat_interval_(options_.heartbeat_interval) {}

Agent::~Agent() {
  Stop();
  std::thread task;
  {
    absl::MutexLock lock(&mu_);
    CancelRunning("worker shutting down");
    task = std::move(task_thread_);
  }
  if (task.joinable()) task.join();
}

std::string Agent::worker_id() const {
  absl::MutexLock lock(&mu_);
  return worker_id_;
}

std::pair<std::string, uint64_t> Agent::Registration() const {
  absl::MutexLock lock(&mu_);
  return {worker_id_, incarnation_};
}

bool Agent::WaitUntilRegistered(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto registered = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !worker_id_.empty(); };
  return mu_.AwaitWithTimeout(absl::Condition(&registered), timeout);
}

void Agent::Stop() {
  stop_requested_ = true;
  absl::MutexLock lock(&mu_);
  stopping_ = true;
}

absl::Status Agent::Register() {
  v1::RegisterWorkerRequest request = options_.registration;
  request.set_protocol_version(kWorkerProtocolVersion);
  {
    absl::MutexLock lock(&mu_);
    if (!task_id_.empty() && !task_done_) {
      request.set_running_task_id(task_id_);
      request.set_running_rank(task_rank_);
    }
  }
  ASSIGN_OR_RETURN(v1::RegisterWorkerResponse response, connection_->RegisterWorker(request));
  if (response.protocol_version() != kWorkerProtocolVersion) {
    return ProtocolMismatch("coordinator", response.protocol_version(), "worker");
  }
  std::fprintf(stderr, "simclr-worker: registered as %s\n", response.worker_id().c_str());
  // Before the id is published: whoever WaitUntilRegistered() wakes finds
  // the observer told.
  if (options_.observer != nullptr) options_.observer->OnRegistered(response.worker_id());
  absl::MutexLock lock(&mu_);
  worker_id_ = response.worker_id();
  incarnation_ = response.coordinator_incarnation();
  if (response.heartbeat_interval_ms() > 0) {
    heartbeat_interval_ = absl::Milliseconds(response.heartbeat_interval_ms());
  }
  return absl::OkStatus();
}

absl::Status Agent::Run() {
  while (!stop_requested_) {
    JoinFinishedTask();
    if (worker_id().empty()) {
      absl::Status s = Register();
      // A version skew does not heal by retrying: end, saying so.
      if (absl::IsFailedPrecondition(s)) return s;
      if (!s.ok()) {
        std::fprintf(stderr, "simclr-worker: cannot register: %s\n", s.ToString().c_str());
      }
    } else {
      HeartbeatOnce();
      // Told to register again: at once, for a restarted coordinator gives
      // its gangs' ranks one lease to come back (NOTE [reconciliation]).
      if (worker_id().empty()) continue;
    }
    absl::MutexLock lock(&mu_);
    clock_->AwaitFor(mu_, absl::Condition(&stopping_), heartbeat_interval_);
  }

  // NOTE [graceful drain]: shutting down, the worker tells the coordinator
  // (which gives it no new task and lets its gang's restart spend nothing),
  // stops its task (the trainer's gang votes to stop at one step and rank 0
  // checkpoints it), keeps heartbeating while the task ends and its
  // checkpoint and result are reported, and only then deregisters. The
  // trainer is killed if it does not end within the runner's grace period.
  {
    absl::MutexLock lock(&mu_);
    CancelRunning("worker shutting down");
  }
  if (!worker_id().empty()) HeartbeatOnce();  // says "draining" at once
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (clock_->AwaitFor(mu_, absl::Condition(this, &Agent::TaskEnded), heartbeat_interval_)) {
        break;
      }
    }
    if (!worker_id().empty()) HeartbeatOnce();
  }
  std::thread task;
  {
    absl::MutexLock lock(&mu_);
    task = std::move(task_thread_);
  }
  if (task.joinable()) task.join();
  const auto [id, incarnation] = Registration();
  if (id.empty()) return absl::OkStatus();
  v1::DeregisterWorkerRequest request;
  request.set_worker_id(id);
  request.set_coordinator_incarnation(incarnation);
  return connection_->DeregisterWorker(request);
}

bool Agent::TaskEnded() const { return !task_thread_.joinable() || task_done_; }

void Agent::JoinFinishedTask() {
  std::thread finished;
  {
    absl::MutexLock lock(&mu_);
    if (!task_done_) return;
    finished = std::move(task_thread_);
    task_done_ = false;
    task_id_.clear();
    context_.reset();
  }
  if (finished.joinable()) finished.join();
}

void Agent::HeartbeatOnce() {
  v1::HeartbeatRequest request;
  request.set_draining(stop_requested_.load());
  {
    absl::MutexLock lock(&mu_);
    request.set_worker_id(worker_id_);
    request.set_coordinator_incarnation(incarnation_);
    if (!task_id_.empty() && !task_done_) request.add_running_task_ids(task_id_);
  }
  absl::StatusOr<v1::HeartbeatResponse> response = connection_->Heartbeat(request);
  if (options_.observer != nullptr) options_.observer->OnHeartbeat(response.ok());
  if (!response.ok()) {
    std::fprintf(stderr, "simclr-worker: heartbeat failed: %s\n",
                 response.status().ToString().c_str());
    return;
  }
  absl::MutexLock lock(&mu_);
  if (response->reregister()) {
    // The coordinator does not know us (it restarted, or declared us lost).
    // Register again, saying what we still run: the coordinator takes the
    // rank back into its gang if that attempt is current, else tells us to
    // stop it (NOTE [reconciliation] in coordinator/coordinator.h).
    std::fprintf(stderr, "simclr-worker: %s is unknown to the coordinator; registering again\n",
                 worker_id_.c_str());
    worker_id_.clear();
    return;
  }
  for (const std::string& id : response->cancel_task_ids()) {
    if (id == task_id_) CancelRunning("the coordinator cancelled the task");
  }
  for (const v1::TaskAssignment& task : response->assignments()) {
    if (seen_tasks_.count(task.task_id()) > 0) continue;  // resent; already ours
    if (stop_requested_) continue;  // draining: the coordinator will take it back
    if (!task_id_.empty()) {
      std::fprintf(stderr, "simclr-worker: ignoring %s while %s runs\n", task.task_id().c_str(),
                   task_id_.c_str());
      continue;
    }
    StartTask(task);
  }
}

void Agent::CancelRunning(const std::string& why) {
  if (context_ != nullptr) context_->Cancel(why);
}

void Agent::StartTask(const v1::TaskAssignment& task) {
  seen_tasks_[task.task_id()] = true;
  task_id_ = task.task_id();
  task_rank_ = task.rank();
  task_done_ = false;
  context_ = std::make_shared<Context>(this, task.task_id());
  std::fprintf(stderr, "simclr-worker: starting %s (%s \"%s\", rank %d of %d)\n",
               task.task_id().c_str(), task.spec().kind().c_str(), task.spec().name().c_str(),
               task.rank(), task.world_size());
  task_thread_ = std::thread(&Agent::RunTask, this, task, context_);
}

absl::StatusOr<TaskResult> Agent::CheckArtifactDirectory(const std::string& directory) const {
  if (options_.artifact_root.empty()) return TaskResult{};
  // Lexically, as the coordinator chose it: the path need not exist yet.
  const std::filesystem::path relative =
      std::filesystem::path(directory).lexically_normal().lexically_relative(
          std::filesystem::path(options_.artifact_root).lexically_normal());
  const bool under = std::filesystem::path(directory).is_absolute() && !relative.empty() &&
                     *relative.begin() != ".." && relative != ".";
  if (under) return TaskResult{};
  return absl::FailedPreconditionError(absl::StrCat(
      "artifact_dir: the coordinator sent ", directory, ", which is not under this worker's "
      "--artifact_dir ", options_.artifact_root, "; mount the coordinator's --artifact_dir at "
      "the same path on every worker"));
}

void Agent::RunTask(v1::TaskAssignment task, std::shared_ptr<Context> context) {
  absl::StatusOr<TaskResult> result = CheckArtifactDirectory(task.artifact_dir());
  if (result.ok()) result = runner_->Run(task, *context);
  context->Flush();

  v1::CompleteTaskRequest request;
  request.set_task_id(task.task_id());
  if (result.ok()) {
    request.set_success(true);
    request.set_checkpoint(result->checkpoint);
    for (const auto& [name, value] : result->metrics) (*request.mutable_metrics())[name] = value;
  } else {
    request.set_success(false);
    request.set_reason(context->cancelled() ? context->cancel_reason()
                                            : std::string(result.status().message()));
    request.set_permanent(!context->cancelled() && IsPermanentFailure(result.status()));
  }
  std::fprintf(stderr, "simclr-worker: %s %s%s\n", task.task_id().c_str(),
               request.success() ? "succeeded" : "failed: ", request.reason().c_str());
  if (options_.observer != nullptr) {
    options_.observer->OnTaskFinished(request.success()     ? TaskOutcome::kSucceeded
                                      : context->cancelled() ? TaskOutcome::kCancelled
                                                             : TaskOutcome::kFailed);
  }

  // The coordinator must hear the result: retry through a brief outage (but
  // only a few times once the worker is stopping).
  const absl::Time give_up = clock_->Now() + options_.complete_retry_for;
  // As the worker's current id (it changes when it registers again).
  auto send = [&] {
    const auto [worker_id, incarnation] = Registration();
    request.set_worker_id(worker_id);
    request.set_coordinator_incarnation(incarnation);
    return connection_->CompleteTask(request);
  };
  absl::Status sent = send();
  // CompleteTask is idempotent: retrying a call that did arrive is harmless.
  auto retryable = [](const absl::Status& s) {
    return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
  };
  for (int tries = 1; !sent.ok() && retryable(sent) && clock_->Now() < give_up &&
                      (!stop_requested_ || tries < 3);
       ++tries) {
    {
      absl::MutexLock lock(&mu_);
      clock_->AwaitFor(mu_, absl::Condition(&stopping_), absl::Seconds(1));
    }
    sent = send();
  }
  if (!sent.ok()) {
    std::fprintf(stderr, "simclr-worker: could not report %s: %s\n", task.task_id().c_str(),
                 sent.ToString().c_str());
  } else if (request.success() && !request.checkpoint().empty()) {
    PruneCheckpoints(request.checkpoint());
  }
  absl::MutexLock lock(&mu_);
  task_done_ = true;
}

}  // namespace simclr::worker
