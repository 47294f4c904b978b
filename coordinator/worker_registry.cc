#include "coordinator/worker_registry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/time_util.h"

namespace simclr::coordinator {

WorkerRegistry::WorkerRegistry(const Clock& clock, WorkerRegistryOptions options)
    : clock_(clock),
      options_(options),
      last_expiry_check_(clock.Now()),
      grace_from_(clock.Now()) {}

WorkerRegistry::Entry* WorkerRegistry::FindEntry(const std::string& id) {
  auto it = entry_by_id_.find(id);
  return it == entry_by_id_.end() ? nullptr : it->second;
}

const WorkerRegistry::Entry* WorkerRegistry::FindEntry(const std::string& id) const {
  auto it = entry_by_id_.find(id);
  return it == entry_by_id_.end() ? nullptr : it->second;
}

const std::string* WorkerRegistry::PrincipalOf(const std::string& id) const {
  const Entry* entry = FindEntry(id);
  return entry == nullptr ? nullptr : &entry->principal;
}

std::string WorkerRegistry::Register(const v1::RegisterWorkerRequest& request,
                                     const std::string& principal) {
  const absl::Time now = clock_.Now();
  std::string id = request.name();
  if (id.empty()) {
    // w-<registration number>, passing over numbers whose id a worker chose.
    while (FindEntry(id = absl::StrCat("w-", next_number_)) != nullptr) ++next_number_;
  } else if (const Entry* old = FindEntry(id); old != nullptr) {
    Count(old->worker, -1);
    const int64_t old_number = old->number;
    entry_by_id_.erase(id);
    entries_.erase(old_number);
  }
  const int64_t number = next_number_++;
  Entry& entry = entries_[number];
  entry.number = number;
  entry_by_id_[id] = &entry;
  entry.principal = principal;
  v1::Worker& w = entry.worker;
  w.set_id(id);
  w.set_hostname(request.hostname());
  w.set_device_kind(request.device_kind().empty() ? "cpu" : request.device_kind());
  w.set_device_count(request.device_count());
  w.set_memory_bytes(request.memory_bytes());
  w.set_device_name(request.device_name());
  w.set_device_memory_bytes(request.device_memory_bytes());
  w.set_collective_address(request.collective_address());
  w.set_state(v1::IDLE);
  *w.mutable_registered_at() = ToProto(now);
  *w.mutable_last_heartbeat() = ToProto(now);
  Count(w, +1);
  return id;
}

void WorkerRegistry::Count(const v1::Worker& w, int sign) {
  if (!IsLiveState(w.state())) return;
  DeviceCounts& counts = counts_[w.device_kind()];
  counts.live += sign;
  if (w.state() == v1::IDLE && !w.draining()) counts.idle += sign;
}

bool WorkerRegistry::IsLive(const std::string& id) const {
  const Entry* e = FindEntry(id);
  return e != nullptr && IsLiveState(e->worker.state());
}

absl::Status WorkerRegistry::Heartbeat(const std::string& id) {
  Entry* e = FindEntry(id);
  if (e == nullptr || !IsLiveState(e->worker.state())) {
    return absl::NotFoundError(absl::StrCat("worker ", id, " is not registered"));
  }
  *e->worker.mutable_last_heartbeat() = ToProto(clock_.Now());
  return absl::OkStatus();
}

absl::Status WorkerRegistry::Deregister(const std::string& id) {
  Entry* e = FindEntry(id);
  if (e == nullptr) return absl::NotFoundError(absl::StrCat("worker ", id, " is not registered"));
  Count(e->worker, -1);
  e->worker.set_state(v1::DRAINED);
  e->gone_at = clock_.Now();
  return absl::OkStatus();
}

// NOTE [coordinator stalls]
// A lease measures how long the coordinator has not heard from a worker. A
// coordinator that was not running (SIGSTOP, a VM stall, a long fsync, a
// restart) heard nobody, however alive its workers were, and would declare
// them all lost at once on waking. So the coordinator's own ticker is its
// heartbeat: when ExpireLeases finds more than half a lease since its last
// call (the ticker runs every heartbeat_interval / 2, so that is three or
// more missed ticks), the coordinator was away, and every lease runs from
// now: each worker gets a full lease period to be heard before it is lost. A
// registry starts the same way, so a restarted coordinator waits a lease
// period for the workers to re-register.
std::vector<std::string> WorkerRegistry::ExpireLeases() {
  const absl::Time now = clock_.Now();
  if (now - last_expiry_check_ > lease_timeout() / 2) grace_from_ = now;
  last_expiry_check_ = now;
  std::vector<std::string> lost;
  for (auto& [number, e] : entries_) {
    if (!IsLiveState(e.worker.state())) continue;
    const absl::Time heard = std::max(FromProto(e.worker.last_heartbeat()), grace_from_);
    if (now - heard > lease_timeout()) {
      Count(e.worker, -1);
      e.worker.set_state(v1::LOST);
      e.gone_at = now;
      lost.push_back(e.worker.id());
    }
  }
  Forget();
  return lost;
}

void WorkerRegistry::Forget() {
  const absl::Time now = clock_.Now();
  for (auto it = entries_.begin(); it != entries_.end();) {
    const v1::WorkerState state = it->second.worker.state();
    if ((state == v1::LOST || state == v1::DRAINED) &&
        now - it->second.gone_at > options_.forget_after) {
      entry_by_id_.erase(it->second.worker.id());
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

void WorkerRegistry::SetDraining(const std::string& id) {
  Entry* e = FindEntry(id);
  if (e == nullptr) return;
  Count(e->worker, -1);
  e->worker.set_draining(true);
  Count(e->worker, +1);
}

void WorkerRegistry::RecordTaskOutcome(const std::string& id, bool failed) {
  Entry* e = FindEntry(id);
  if (e == nullptr) return;
  v1::Worker& w = e->worker;
  w.set_consecutive_failures(failed ? w.consecutive_failures() + 1 : 0);
  w.set_unhealthy(w.consecutive_failures() >= options_.unhealthy_after_failures);
}

void WorkerRegistry::Assign(const std::string& id, const v1::TaskAssignment& assignment) {
  Entry* e = FindEntry(id);
  if (e == nullptr) return;
  e->task_id = assignment.task_id();
  e->undelivered = assignment;
  Count(e->worker, -1);
  e->worker.set_state(v1::BUSY);
  Count(e->worker, +1);
  e->worker.set_job_id(assignment.job_id());
  e->worker.set_rank(assignment.rank());
}

void WorkerRegistry::Acknowledge(const std::string& id, const std::string& task_id) {
  Entry* e = FindEntry(id);
  if (e != nullptr && e->task_id == task_id) e->undelivered.reset();
}

bool WorkerRegistry::Release(const std::string& id, const std::string& task_id) {
  Entry* e = FindEntry(id);
  if (e == nullptr || e->task_id.empty() || e->task_id != task_id) return false;
  e->task_id.clear();
  e->undelivered.reset();
  e->worker.clear_job_id();
  e->worker.clear_rank();
  if (e->worker.state() == v1::BUSY) {
    Count(e->worker, -1);
    e->worker.set_state(v1::IDLE);
    Count(e->worker, +1);
  }
  return true;
}

std::optional<v1::TaskAssignment> WorkerRegistry::Undelivered(const std::string& id) const {
  const Entry* e = FindEntry(id);
  return e == nullptr ? std::nullopt : e->undelivered;
}

std::string WorkerRegistry::TaskOf(const std::string& id) const {
  const Entry* e = FindEntry(id);
  return e == nullptr ? "" : e->task_id;
}

const v1::Worker* WorkerRegistry::Find(const std::string& id) const {
  const Entry* e = FindEntry(id);
  return e == nullptr ? nullptr : &e->worker;
}

const v1::Worker* WorkerRegistry::RunningJob(const std::string& job_id) const {
  for (const auto& [number, e] : entries_) {
    if (e.worker.job_id() == job_id) return &e.worker;
  }
  return nullptr;
}

std::vector<const v1::Worker*> WorkerRegistry::IdleWorkers(const std::string& device) const {
  std::vector<const v1::Worker*> idle;
  for (const auto& [number, e] : entries_) {
    if (e.worker.state() == v1::IDLE && !e.worker.draining() &&
        e.worker.device_kind() == device) {
      idle.push_back(&e.worker);
    }
  }
  return idle;
}

int WorkerRegistry::IdleCount(const std::string& device) const {
  auto it = counts_.find(device);
  return it == counts_.end() ? 0 : it->second.idle;
}

std::map<std::string, int> WorkerRegistry::IdleCountByDevice() const {
  std::map<std::string, int> idle;
  for (const auto& [device, counts] : counts_) {
    if (counts.idle > 0) idle[device] = counts.idle;
  }
  return idle;
}

std::map<std::string, int> WorkerRegistry::LiveCountByDevice() const {
  std::map<std::string, int> live;
  for (const auto& [device, counts] : counts_) {
    if (counts.live > 0) live[device] = counts.live;
  }
  return live;
}

std::vector<v1::Worker> WorkerRegistry::List() const {
  std::vector<v1::Worker> all;
  for (const auto& [number, e] : entries_) all.push_back(e.worker);
  return all;
}

}  // namespace simclr::coordinator
