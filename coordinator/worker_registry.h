// Workers known to the coordinator, their leases and what each one runs.
#ifndef SIMCLR_COORDINATOR_WORKER_REGISTRY_H_
#define SIMCLR_COORDINATOR_WORKER_REGISTRY_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "proto/simclr/v1/worker.pb.h"

namespace simclr::coordinator {

// The states that hold a lease.
inline bool IsLiveState(v1::WorkerState state) {
  return state == v1::IDLE || state == v1::BUSY;
}

struct WorkerRegistryOptions {
  absl::Duration heartbeat_interval = absl::Seconds(2);
  // A worker whose last heartbeat is older than this many intervals is lost.
  int missed_heartbeats = 3;
  // Lost and drained workers stay listed this long, then are forgotten.
  absl::Duration forget_after = absl::Hours(1);
  // A worker on whose side this many attempts failed in a row is unhealthy.
  int unhealthy_after_failures = 3;
};

// Leases: a worker is live while it heartbeats at least every
// heartbeat_interval * missed_heartbeats. Each live worker is IDLE or BUSY
// with exactly one task; an assignment stays "undelivered" (and is resent in
// every heartbeat reply) until the worker acknowledges it by listing the task
// as running or by completing it, so a lost reply cannot strand a gang.
//
// Not thread-safe: the Coordinator serialises every call.
class WorkerRegistry {
 public:
  WorkerRegistry(const Clock& clock, WorkerRegistryOptions options);
  WorkerRegistry(const WorkerRegistry&) = delete;  // entry_by_id_ points into entries_
  WorkerRegistry& operator=(const WorkerRegistry&) = delete;

  // Adds a live, idle worker and returns its id: the request's name, or
  // w-<n> (an id no listed worker has). A request naming a worker that is
  // still listed replaces it (the process restarted): the new entry runs no
  // task, so the old one's gang sees the rank gone.
  // `principal` registered it (see Coordinator::CheckSpeaksFor).
  std::string Register(const v1::RegisterWorkerRequest& request,
                       const std::string& principal = "");

  // Who registered the live or gone worker `id`; nullptr if unknown.
  const std::string* PrincipalOf(const std::string& id) const;

  // Renews the lease. NotFound if the id is unknown, lost or drained: the
  // worker must register again.
  absl::Status Heartbeat(const std::string& id);

  // Marks the worker drained (it shut down cleanly). NotFound if unknown.
  absl::Status Deregister(const std::string& id);

  // Marks workers whose lease ran out as LOST and returns their ids. Called
  // by the coordinator's own ticker every heartbeat_interval / 2; see NOTE
  // [coordinator stalls] for what a longer gap between calls means.
  std::vector<std::string> ExpireLeases();

  // Counts how a task on worker `id` ended: `failed` for an attempt that
  // failed on its side (its trainer crashed, its port was taken), else a
  // completed task, which clears the count. A worker with
  // options.unhealthy_after_failures failures in a row is unhealthy until it
  // completes a task. Unknown ids are ignored.
  void RecordTaskOutcome(const std::string& id, bool failed);

  // Ids this registry hands out ("w-<n>") from now on have n > `number`:
  // after a restart, new workers never take the id of a worker that a
  // recovered gang still names.
  void SkipIdsThrough(int64_t number) { next_number_ = std::max(next_number_, number + 1); }

  // Marks a live worker as shutting down: IdleWorkers leaves it out from
  // then on. Unknown ids are ignored.
  void SetDraining(const std::string& id);

  // Makes an idle worker busy with `assignment` (undelivered until acked).
  void Assign(const std::string& id, const v1::TaskAssignment& assignment);

  // The worker acknowledged that it runs `task_id`.
  void Acknowledge(const std::string& id, const std::string& task_id);

  // The worker is done with `task_id`: it becomes idle if that was its task.
  // Returns false if the worker was not busy with that task.
  bool Release(const std::string& id, const std::string& task_id);

  // The assignment to resend to the worker, if it has not acknowledged it.
  std::optional<v1::TaskAssignment> Undelivered(const std::string& id) const;

  // The task the worker is busy with, or "" if idle or unknown.
  std::string TaskOf(const std::string& id) const;

  bool IsLive(const std::string& id) const;
  // A worker busy with a task of job `job_id` (of any attempt), or nullptr.
  const v1::Worker* RunningJob(const std::string& job_id) const;
  const v1::Worker* Find(const std::string& id) const;

  // Live idle workers of `device` that are not draining, in registration
  // order. Walks the whole fleet.
  std::vector<const v1::Worker*> IdleWorkers(const std::string& device) const;
  // How many workers IdleWorkers lists for each device kind, and how many of
  // each are live (idle or busy): kept as workers change, so asking costs
  // nothing however large the fleet.
  int IdleCount(const std::string& device) const;
  std::map<std::string, int> IdleCountByDevice() const;
  std::map<std::string, int> LiveCountByDevice() const;
  // Every worker still listed, in registration order.
  std::vector<v1::Worker> List() const;

  absl::Duration lease_timeout() const {
    return options_.heartbeat_interval * options_.missed_heartbeats;
  }
  // Every lease runs from no earlier than this: the registry's start, or the
  // last ExpireLeases after the coordinator was away (NOTE [coordinator
  // stalls]), a slow start included.
  absl::Time leases_run_from() const { return grace_from_; }
  const WorkerRegistryOptions& options() const { return options_; }

 private:
  struct Entry {
    int64_t number = 0;  // its key in entries_
    v1::Worker worker;
    std::string task_id;  // "" when idle
    std::optional<v1::TaskAssignment> undelivered;
    absl::Time gone_at;   // when it became LOST or DRAINED
    std::string principal;  // who registered it ("" in insecure mode)
  };

  Entry* FindEntry(const std::string& id);
  const Entry* FindEntry(const std::string& id) const;
  void Forget();
  // Adds (+1) or removes (-1) `w` from the counts below; every change of a
  // worker's state or draining flag is bracketed by the two.
  void Count(const v1::Worker& w, int sign);

  const Clock& clock_;
  const WorkerRegistryOptions options_;
  // NOTE [coordinator stalls] in worker_registry.cc.
  absl::Time last_expiry_check_;
  absl::Time grace_from_;
  int64_t next_number_ = 1;
  // Keyed by registration number, so iteration is registration order.
  std::map<int64_t, Entry> entries_;
  // Every entry of entries_ by worker id (map nodes do not move). Every
  // heartbeat looks its worker up here several times: a hash map, as the
  // ordered map it replaced was 4.5% of the coordinator's CPU at 10,000
  // workers (docs/performance.md).
  absl::flat_hash_map<std::string, Entry*> entry_by_id_;
  struct DeviceCounts {
    int live = 0;
    int idle = 0;  // idle and not draining
  };
  std::map<std::string, DeviceCounts> counts_;  // by device kind
};

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_WORKER_REGISTRY_H_
