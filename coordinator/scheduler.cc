#include "coordinator/scheduler.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace simclr::coordinator {
namespace {

int64_t IdNumber(const std::string& id) {
  int64_t n = 0;
  if (id.size() > 2) (void)absl::SimpleAtoi(id.substr(2), &n);
  return n;
}

auto OrderKey(const v1::Job* job) {
  return std::make_tuple(-job->spec().priority(), job->queued_at().seconds(),
                         job->queued_at().nanos(), IdNumber(job->id()));
}

}  // namespace

SchedulingDecision PlaceGangs(const std::vector<const v1::Job*>& queued,
                              const std::vector<const v1::Worker*>& idle_workers,
                              const std::map<std::string, int>& live_workers_by_device) {
  std::vector<const v1::Job*> order = queued;
  std::sort(order.begin(), order.end(),
            [](const v1::Job* a, const v1::Job* b) { return OrderKey(a) < OrderKey(b); });

  // Device -> its idle workers. Pointers, not ids: this runs on every
  // registration, and a fleet of 10,000 would otherwise copy 10,000 strings
  // each time (bench/control_plane_load.cc).
  std::map<std::string, std::vector<const v1::Worker*>> free;
  for (const v1::Worker* w : idle_workers) free[w->device_kind()].push_back(w);
  std::set<std::string> blocked_devices;

  SchedulingDecision decision;
  for (const v1::Job* job : order) {
    const std::string& device = job->spec().device();
    const int want = job->spec().world_size();
    auto live_it = live_workers_by_device.find(device);
    const int live = live_it == live_workers_by_device.end() ? 0 : live_it->second;
    if (want > live) {
      decision.waiting.push_back(
          {job->id(), absl::StrCat("waiting for ", want, " ", device, " workers; ", live,
                                   " registered")});
      continue;
    }
    if (blocked_devices.count(device) > 0) {
      decision.waiting.push_back(
          {job->id(), absl::StrCat("waiting behind an earlier job for ", device, " workers")});
      continue;
    }
    std::vector<const v1::Worker*>& idle = free[device];
    if (idle.size() < static_cast<size_t>(want)) {
      blocked_devices.insert(device);
      decision.waiting.push_back(
          {job->id(), absl::StrCat("waiting for ", want, " idle ", device, " workers; ",
                                   idle.size(), " idle")});
      continue;
    }
    // Unhealthy workers go last, and before them the workers an earlier
    // attempt of this job failed on.
    const std::set<std::string> avoided(job->avoided_workers().begin(),
                                        job->avoided_workers().end());
    auto penalty = [&](const v1::Worker* w) {
      return (w->unhealthy() ? 2 : 0) + (avoided.count(w->id()) > 0 ? 1 : 0);
    };
    std::stable_sort(idle.begin(), idle.end(), [&](const v1::Worker* a, const v1::Worker* b) {
      return penalty(a) < penalty(b);
    });
    GangPlacement placement{job->id(), {}};
    for (int rank = 0; rank < want; ++rank) placement.worker_ids.push_back(idle[rank]->id());
    idle.erase(idle.begin(), idle.begin() + want);
    decision.placements.push_back(std::move(placement));
  }
  return decision;
}

}  // namespace simclr::coordinator
