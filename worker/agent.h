// The worker agent: registers with the coordinator, keeps its lease with
// heartbeats, runs one task at a time through a TaskRunner, reports progress
// and results, obeys cancellations, and deregisters on Stop().
#ifndef SIMCLR_WORKER_AGENT_H_
#define SIMCLR_WORKER_AGENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "worker/coordinator_connection.h"
#include "worker/task_runner.h"

namespace simclr::worker {

// How a task ended, as the agent reports it to the coordinator.
enum class TaskOutcome { kSucceeded, kFailed, kCancelled };

// What the agent does, for metrics (worker/worker_metrics.h). Called from the
// agent's threads without its lock held; implementations are thread-safe.
class AgentObserver {
 public:
  virtual ~AgentObserver() = default;
  // After every (re)registration, with the id the coordinator gave; before
  // Agent::WaitUntilRegistered() returns for it.
  virtual void OnRegistered(const std::string& worker_id) {}
  // After every heartbeat RPC: whether the coordinator answered.
  virtual void OnHeartbeat(bool answered) {}
  virtual void OnTaskFinished(TaskOutcome outcome) {}
};

struct AgentOptions {
  v1::RegisterWorkerRequest registration;  // device, memory, collective address, name
  // Used until the coordinator's first reply says otherwise.
  absl::Duration heartbeat_interval = absl::Seconds(2);
  // Progress RPCs are sent at most this often (reports with a checkpoint always).
  absl::Duration progress_interval = absl::Seconds(1);
  // A finished task's CompleteTask is retried this long before it is given up.
  absl::Duration complete_retry_for = absl::Minutes(2);
  // Where this worker may write artifacts: a task whose artifact directory
  // lies elsewhere fails permanently before it starts (the coordinator's
  // --artifact_dir must be a volume mounted at the same path on every
  // worker). Empty: no check.
  std::string artifact_root;
  AgentObserver* observer = nullptr;  // not owned; may be null
};

// Thread-safe. Typical use in main:
//   Agent agent(options, connection.get(), runner.get(), &Clock::Real());
//   std::thread t([&] { agent.Run(); });
//   ... on SIGTERM: agent.Stop(); t.join();
class Agent {
 public:
  Agent(AgentOptions options, CoordinatorConnection* connection, TaskRunner* runner,
        const Clock* clock);  // all not owned
  ~Agent();

  // Loops until Stop(): (re)registers, heartbeats, starts and cancels tasks.
  // Returns OK after a clean stop (running task ended, worker deregistered),
  // FailedPrecondition at once when the coordinator speaks another worker
  // protocol (common/version.h).
  absl::Status Run();

  // Asks Run() to stop: the running task is cancelled, its end reported
  // while the worker keeps heartbeating, then the worker deregisters (NOTE
  // [graceful drain] in agent.cc).
  // Non-blocking.
  void Stop();

  // The id the coordinator gave this worker ("" before registration).
  std::string worker_id() const;

  // Blocks until the agent is registered or `timeout` passes.
  bool WaitUntilRegistered(absl::Duration timeout) const;

 private:
  class Context;

  absl::Status Register();
  // The worker's current id and the coordinator incarnation it registered
  // with: every call names both (they change when the worker registers again).
  std::pair<std::string, uint64_t> Registration() const;
  void HeartbeatOnce();
  void StartTask(const v1::TaskAssignment& task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunTask(v1::TaskAssignment task, std::shared_ptr<Context> context);
  // OK when options_.artifact_root is empty or holds `directory`; else a
  // permanent error naming both.
  absl::StatusOr<TaskResult> CheckArtifactDirectory(const std::string& directory) const;
  void CancelRunning(const std::string& why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void JoinFinishedTask() ABSL_LOCKS_EXCLUDED(mu_);
  // No task, or the task has ended and its result was reported.
  bool TaskEnded() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const AgentOptions options_;
  CoordinatorConnection* const connection_;  // not owned
  TaskRunner* const runner_;                 // not owned
  const Clock* const clock_;                 // not owned

  std::atomic<bool> stop_requested_{false};
  mutable absl::Mutex mu_;
  // Set by Stop(): ends the waits between heartbeats and retries at once.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::string worker_id_ ABSL_GUARDED_BY(mu_);
  uint64_t incarnation_ ABSL_GUARDED_BY(mu_) = 0;  // the coordinator's, at registration
  absl::Duration heartbeat_interval_ ABSL_GUARDED_BY(mu_);
  // The task in flight, if any, and its thread.
  std::string task_id_ ABSL_GUARDED_BY(mu_);
  int task_rank_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<Context> context_ ABSL_GUARDED_BY(mu_);
  std::thread task_thread_ ABSL_GUARDED_BY(mu_);
  bool task_done_ ABSL_GUARDED_BY(mu_) = false;
  // Task ids this worker already ran (so a resent assignment is not rerun).
  std::map<std::string, bool> seen_tasks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace simclr::worker

#endif  // SIMCLR_WORKER_AGENT_H_
