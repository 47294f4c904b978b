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

SchedulingDecision PlaceGangs(const std::vector<const v1::Job*>& queued, const FleetView& fleet) {
  std::vector<const v1::Job*> order = queued;
  std::sort(order.begin(), order.end(),
            [](const v1::Job* a, const v1::Job* b) { return OrderKey(a) < OrderKey(b); });
  auto count = [](const std::map<std::string, int>& counts, const std::string& device) {
    auto it = counts.find(device);
    return it == counts.end() ? 0 : it->second;
  };

  // Device -> its idle workers not yet placed, listed the first time a job
  // of that kind fits in their number (NOTE [scheduling cost]). Pointers,
  // not ids: a fleet of 10,000 would otherwise copy 10,000 strings.
  std::map<std::string, std::vector<const v1::Worker*>> free;
  std::set<std::string> blocked_devices;

  SchedulingDecision decision;
  for (const v1::Job* job : order) {
    const std::string& device = job->spec().device();
    const int want = job->spec().world_size();
    const int live = count(fleet.live_count_by_device, device);
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
    auto listed = free.find(device);
    if (listed == free.end() && count(fleet.idle_count_by_device, device) >= want) {
      listed = free.emplace(device, fleet.idle_workers(device)).first;
    }
    const int idle_count = listed == free.end() ? count(fleet.idle_count_by_device, device)
                                                : static_cast<int>(listed->second.size());
    if (idle_count < want) {
      blocked_devices.insert(device);
      decision.waiting.push_back(
          {job->id(), absl::StrCat("waiting for ", want, " idle ", device, " workers; ",
                                   idle_count, " idle")});
      continue;
    }
    std::vector<const v1::Worker*>& idle = listed->second;
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

SchedulingDecision PlaceGangs(const std::vector<const v1::Job*>& queued,
                              const std::vector<const v1::Worker*>& idle_workers,
                              const std::map<std::string, int>& live_workers_by_device) {
  FleetView fleet;
  for (const v1::Worker* w : idle_workers) ++fleet.idle_count_by_device[w->device_kind()];
  fleet.live_count_by_device = live_workers_by_device;
  fleet.idle_workers = [&idle_workers](const std::string& device) {
    std::vector<const v1::Worker*> of_device;
    for (const v1::Worker* w : idle_workers) {
      if (w->device_kind() == device) of_device.push_back(w);
    }
    return of_device;
  };
  return PlaceGangs(queued, fleet);
}

}  // namespace simclr::coordinator
