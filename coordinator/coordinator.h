// The coordinator's core: jobs, their lifecycle and their gangs of workers.
//
// Transport-free: the gRPC services (job_service.h, worker_service.h) only
// translate protos and call these methods. Time comes from an injected Clock
// and nothing here sleeps, so tests drive every path with a FakeClock.
//
// NOTE [job lifecycle]
//   PENDING   waits for its parent (finetune, linear_eval) or teacher (distill)
//             to SUCCEED; fails, naming it, if that one fails or is cancelled.
//   QUEUED    runnable; waits for a gang of idle workers (scheduler.h).
//   RUNNING   attempt k runs as tasks "<job id>.<k>" on world_size workers.
//             It SUCCEEDS when every rank completed successfully. If a rank
//             fails or its worker is lost, the other ranks are cancelled and
//             the job goes back to QUEUED, resuming from its latest
//             checkpoint, while attempts <= max_restarts; else it FAILS.
//   SUCCEEDED | FAILED | CANCELLED are final.
// Every transition is committed to the JobStore before the call that caused
// it returns; if the store fails, the call fails and memory is unchanged.
// A coordinator restarted with the same store reconciles the jobs that were
// RUNNING (NOTE [reconciliation]).
//
// NOTE [reconciliation]
// A gang keeps training while the coordinator restarts. The recovered
// coordinator keeps each RUNNING job RUNNING for one lease period, counted
// as every lease is, from when it can hear workers (a slow start or a stall
// moves it: WorkerRegistry::leases_run_from); its
// workers, told to register again by their next heartbeat, register with the
// task and rank they still run, and each such rank is taken back into the
// gang (under its new worker id). When every rank is back the attempt simply
// continues: nothing is redone. A job some rank of which is not back in time
// is requeued from its checkpoint, spending none of its max_restarts.
//
// NOTE [attempt fencing]
// Attempt k's tasks are "<job id>.<k>"; a report of any other attempt is
// refused (counted by CoordinatorObserver::OnStaleReport) and its task told
// to stop. Attempt k writes only under <artifact_dir>/attempt-<k>/
// (model/checkpoint/checkpoint_files.h), so a stale gang that still runs
// never writes over the current one's files. The job's checkpoint, which the
// next attempt and the jobs that depend on it start from, is set only from
// the current attempt's reports: recording it is what promotes a checkpoint
// to the job.
#ifndef SIMCLR_COORDINATOR_COORDINATOR_H_
#define SIMCLR_COORDINATOR_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "coordinator/job_spec.h"
#include "coordinator/job_store.h"
#include "coordinator/worker_registry.h"
#include "proto/simclr/v1/coordinator.pb.h"
#include "proto/simclr/v1/job.pb.h"
#include "proto/simclr/v1/worker.pb.h"

namespace simclr::coordinator {

// One submit stores at most this many jobs (a pipeline file is a handful).
inline constexpr size_t kMaxSpecsPerSubmit = 1000;
// ListJobs (whole, for metrics) answers with at most this many jobs, the
// newest; the API pages (ListJobsPage).
inline constexpr size_t kMaxListedJobs = 10000;
// ListJobsPage: the page size when the request names none, and the largest.
inline constexpr int kDefaultPageSize = 500;
inline constexpr int kMaxPageSize = 1000;

struct CoordinatorOptions {
  WorkerRegistryOptions registry;
  // Job j's checkpoints go to <artifact_root>/<j's id>. Workers must see the
  // same path (one machine, or a shared volume).
  std::string artifact_root = "/tmp/simclr-artifacts";
  // Bound on every collective of a gang; a dead peer becomes an error.
  absl::Duration collective_timeout = absl::Minutes(5);
  // Finished jobs older than this (by finished_at) are deleted with their
  // artifacts by Tick(), unless a job that has not finished depends on them.
  // Zero keeps every job.
  absl::Duration retention = absl::ZeroDuration();
  // Progress and metrics are persisted at most this often (transitions and
  // new checkpoints always at once).
  absl::Duration progress_persist_interval = absl::Seconds(10);
  // What a submitted spec may ask for: world size, paths (CheckJobSpec).
  SpecLimits spec_limits;
  // What a worker's report may carry: longer reasons are cut, further
  // metrics dropped, before anything is stored.
  size_t max_reason_bytes = 2048;
  int max_reported_metrics = 64;
};

// Observes transitions, e.g. to count them in metrics. Called with the
// coordinator's lock held: must be fast and must not call back.
class CoordinatorObserver {
 public:
  virtual ~CoordinatorObserver() = default;
  virtual void OnTransition(const v1::Job& job, v1::JobState from) = 0;
  virtual void OnRestart(const v1::Job& job) = 0;
  // A worker reported for an attempt that is no longer current (cancelled,
  // restarted, or never its own); the report changed nothing.
  virtual void OnStaleReport() = 0;
};

// Thread-safe: every public method may be called from any thread.
class Coordinator {
 public:
  // Loads every job from `store` and recovers jobs that were RUNNING.
  static absl::StatusOr<std::unique_ptr<Coordinator>> Create(
      CoordinatorOptions options, JobStore* store, const Clock* clock,
      CoordinatorObserver* observer = nullptr);  // all not owned

  // --- JobService ---

  // Validates all specs together and stores all or none. InvalidArgument
  // names the spec (index and name) and the field. Returns ids in order.
  // `principal` (who submitted; "" in insecure mode) is kept in each job's
  // submitted_by.
  absl::StatusOr<std::vector<std::string>> SubmitJobs(const std::vector<v1::JobSpec>& specs,
                                                      const std::string& principal = "");

  // By id, or by name (the live job of that name, else the newest one).
  absl::StatusOr<v1::Job> GetJob(const std::string& id_or_name) const;

  // Oldest first; `states` empty means all. At most kMaxListedJobs: the
  // newest of those that match.
  std::vector<v1::Job> ListJobs(const std::set<v1::JobState>& states) const;

  // A page of the jobs, oldest first: those in request.states (empty: all)
  // whose spec.labels hold every pair of request.label_selector, at most
  // request.page_size (0: kDefaultPageSize), after request.page_token.
  // InvalidArgument names a bad page_size, page_token or label_selector.
  absl::StatusOr<v1::ListJobsResponse> ListJobsPage(const v1::ListJobsRequest& request) const;
  // Final jobs are returned unchanged (FailedPrecondition is not useful to a
  // script that cancels "whatever is left"). Unless `admin`, only the
  // principal that submitted the job may cancel it (PermissionDenied); the
  // reason records who did.
  absl::StatusOr<v1::Job> CancelJob(const std::string& id_or_name,
                                    const std::string& principal = "", bool admin = true);

  // Removes a job: its record and events (one store commit), then its
  // artifact directory. `cancel`: cancel it first if it has not finished.
  // Returns NotFound; PermissionDenied as CancelJob; FailedPrecondition while
  // it has not finished (without `cancel`), while workers still run its tasks
  // (a cancelled gang stops within a heartbeat: retry), or while a job that
  // has not finished names it as parent or teacher; Internal when the record
  // is gone but the artifact directory could not be removed.
  absl::Status DeleteJob(const std::string& id_or_name, bool cancel,
                         const std::string& principal = "", bool admin = true);
  // Blocks until the job's version exceeds `after_version` or `timeout`
  // passes, then returns the job and its version. Versions start at 1, so
  // after_version 0 returns at once. (Waits on a condition variable: the
  // only blocking call here, meant for WatchJob's stream.)
  struct Snapshot {
    v1::Job job;
    int64_t version = 0;
  };
  absl::StatusOr<Snapshot> WaitForChange(const std::string& id_or_name, int64_t after_version,
                                         absl::Duration timeout) const;

  std::vector<v1::Worker> ListWorkers() const;

  // The job's events, oldest first: its submission and every transition,
  // each stored in the commit that made it (read from the store, outside the
  // coordinator's lock). NotFound for an unknown job.
  absl::StatusOr<std::vector<v1::JobEvent>> ListJobEvents(const std::string& id_or_name) const;

  // --- WorkerService ---

  // `principal` is who registers ("" in insecure mode): from then on only it
  // may speak for the worker id (CheckSpeaksFor). PermissionDenied when the
  // request names a live worker that another principal registered.
  absl::StatusOr<v1::RegisterWorkerResponse> RegisterWorker(const v1::RegisterWorkerRequest& r,
                                                            const std::string& principal = "");
  // OK when `principal` registered `worker_id` (or the id is unknown: the
  // call itself then says so); PermissionDenied otherwise. A report forged
  // for another worker changes nothing.
  absl::Status CheckSpeaksFor(const std::string& worker_id, const std::string& principal) const;
  // An unknown worker gets `reregister`; the reply carries its undelivered
  // assignment and the running tasks it must cancel.
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& r);
  absl::StatusOr<v1::ReportProgressResponse> ReportProgress(const v1::ReportProgressRequest& r);
  absl::Status CompleteTask(const v1::CompleteTaskRequest& r);
  absl::Status DeregisterWorker(const v1::DeregisterWorkerRequest& r);

  // Expires leases, starts gangs and deletes the finished jobs past
  // options.retention. main calls it every heartbeat interval; the RPCs
  // above also schedule when they free or add capacity.
  absl::Status Tick();

  const CoordinatorOptions& options() const { return options_; }

 private:
  Coordinator(CoordinatorOptions options, JobStore* store, const Clock* clock,
              CoordinatorObserver* observer);

  // A batch of job changes committed together: Stage() copies a job so it can
  // be edited; Commit() writes all staged jobs to the store and, only if that
  // succeeded, installs them in memory.
  class Change;

  absl::Status Recover() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const v1::Job* Lookup(const std::string& id_or_name) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  v1::Job* LookupById(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the queued jobs that fit in the idle workers (scheduler.h) and
  // refreshes why the others wait. kIfAnyFits returns at once when no queued
  // job fits in the idle workers of its device kind (NOTE [scheduling cost]);
  // Tick() and SubmitJobs() pass kAlways.
  enum class Placement { kIfAnyFits, kAlways };
  absl::Status Schedule(Placement placement = Placement::kIfAnyFits)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // How an attempt ended: a fault (requeued while max_restarts allows,
  // spending one), an error no retry can fix (the job fails), or the
  // service itself interrupted it: a gang member shut down, or the
  // coordinator restarted (requeued, spending nothing, blaming nobody).
  enum class AttemptEnd { kFault, kPermanent, kInterrupted };
  // Ends the current attempt of a RUNNING job: cancels its other ranks and
  // requeues the job or fails it (staged in `change`).
  // `culprit`: the worker whose failure ended the attempt ("" if none), which
  // the next attempt avoids when it can.
  void FailAttempt(Change& change, v1::Job& job, const std::string& reason,
                   const std::string& culprit, AttemptEnd end = AttemptEnd::kFault)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // NOTE [reconciliation]: takes a re-registered worker's rank back into its
  // gang if the attempt is current and waiting for it.
  absl::Status Reconcile(const std::string& worker, const v1::RegisterWorkerRequest& r)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // False for a call that names another incarnation of the coordinator (a
  // registration with an earlier process); 0 is not checked.
  bool FromThisIncarnation(uint64_t incarnation) const;
  // True while a reconciling job waits for the worker of `task_id` (of that
  // attempt) to register again: its reports are neither taken nor refused.
  bool WaitingForRank(const v1::Job* job, int attempt, const std::string& worker,
                      const std::string& task_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Requeues the reconciling jobs whose lease is up (staged in `change`).
  // Called by Tick only, after ExpireLeases.
  void RequeueUnreconciled(Change& change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The ids that jobs which have not finished name as parent or teacher.
  std::set<std::string> NeededJobs() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Why `job` cannot be deleted now ("" if it can): it has not finished, a
  // job that has not finished depends on it (it is in `needed`, NeededJobs()),
  // or a worker still runs one of its tasks.
  std::string WhyUndeletable(const v1::Job& job, const std::set<std::string>& needed) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Removes the jobs `ids` from the store and from memory (the caller holds
  // writer_mu_); returns their artifact directories, for the caller to
  // remove once it has released the locks (RemoveArtifacts).
  absl::StatusOr<std::vector<std::string>> EraseJobs(const std::vector<std::string>& ids)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes a deleted job's artifact directory, if it lies under
  // options.artifact_root (a stored path is never trusted further).
  absl::Status RemoveArtifacts(const std::string& dir) const;
  // NOTE [late checkpoints] in coordinator.cc.
  absl::Status RecordLateCheckpoint(const v1::Job* job, int attempt,
                                    const std::string& checkpoint)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A member of the job's gang that is draining, or "".
  std::string DrainingMember(const v1::Job& job) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Moves PENDING children of finished jobs forward (staged in `change`).
  void ResolveDependents(Change& change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::TaskAssignment MakeAssignment(const v1::Job& job, int rank,
                                    const std::string& rendezvous) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Running tasks a worker must stop: not its current task, or of a job that
  // is no longer RUNNING that attempt.
  std::vector<std::string> StaleTasks(const std::string& worker_id,
                                      const std::vector<std::string>& running) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Fails the attempt of every RUNNING job with a rank whose worker is lost,
  // drained, re-registered or no longer runs the rank's task (staged).
  void FailGangsWithDeadMembers(Change& change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // True if `task_id` names the current attempt of a RUNNING job.
  bool IsCurrentTask(const std::string& task_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // Copies what a worker reported into `job.metrics`, within the bounds of
  // the options: names up to 64 bytes, at most max_reported_metrics names.
  void MergeReportedMetrics(const google::protobuf::Map<std::string, double>& reported,
                            v1::Job& job) const;

  const CoordinatorOptions options_;
  JobStore* const store_;                 // not owned
  const Clock* const clock_;              // not owned
  CoordinatorObserver* const observer_;   // not owned, may be null
  // Random per process (RegisterWorkerResponse.coordinator_incarnation).
  const uint64_t incarnation_;

  // NOTE [commits outside the lock]
  // Every call that changes jobs holds writer_mu_ throughout (taken before
  // mu_), so mutations happen one at a time. mu_ guards the state itself, and
  // a commit releases it while the store writes (SQLite, synchronous=FULL:
  // an fsync): heartbeats, which touch only the worker registry, and readers
  // (GetJob, ListJobs, ListWorkers, watches, metrics scrapes) never wait for
  // the disk. A heartbeat that finds a rank gone waits for the writer's turn
  // before it fails the gang.
  absl::Mutex writer_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  int64_t next_job_number_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<int64_t, v1::Job> jobs_ ABSL_GUARDED_BY(mu_);  // by id number
  std::map<std::string, int64_t> number_by_id_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> versions_ ABSL_GUARDED_BY(mu_);
  // Ranks of the current attempt that completed successfully, by job id.
  std::map<std::string, std::set<int>> completed_ranks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> last_persisted_ ABSL_GUARDED_BY(mu_);
  // NOTE [reconciliation]: RUNNING jobs recovered at startup whose ranks are
  // not all back yet, by id, and the ranks back so far (they wait a lease
  // from WorkerRegistry::leases_run_from).
  std::map<std::string, std::set<int>> reconciling_ ABSL_GUARDED_BY(mu_);
  WorkerRegistry registry_ ABSL_GUARDED_BY(mu_);
};

// "<job id>.<attempt>" and back.
std::string TaskId(const std::string& job_id, int attempt);
bool ParseTaskId(const std::string& task_id, std::string* job_id, int* attempt);

bool IsFinal(v1::JobState state);

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_COORDINATOR_H_
