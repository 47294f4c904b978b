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

  std::map<std::string, std::vector<std::string>> free;  // device -> idle ids
  std::set<std::string> unhealthy;
  for (const v1::Worker* w : idle_workers) {
    free[w->device_kind()].push_back(w->id());
    if (w->unhealthy()) unhealthy.insert(w->id());
  }
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
    std::vector<std::string>& ids = free[device];
    if (ids.size() < static_cast<size_t>(want)) {
      blocked_devices.insert(device);
      decision.waiting.push_back(
          {job->id(), absl::StrCat("waiting for ", want, " idle ", device, " workers; ",
                                   ids.size(), " idle")});
      continue;
    }
    // Unhealthy workers go last, and before them the workers an earlier
    // attempt of this job failed on.
    const std::set<std::string> avoided(job->avoided_workers().begin(),
                                        job->avoided_workers().end());
    auto penalty = [&](const std::string& id) {
      return (unhealthy.count(id) > 0 ? 2 : 0) + (avoided.count(id) > 0 ? 1 : 0);
    };
    std::vector<std::string> candidates = ids;
    std::stable_sort(candidates.begin(), candidates.end(),
                     [&](const std::string& a, const std::string& b) {
                       return penalty(a) < penalty(b);
                     });
    candidates.resize(want);
    const std::set<std::string> taken(candidates.begin(), candidates.end());
    ids.erase(std::remove_if(ids.begin(), ids.end(),
                             [&](const std::string& id) { return taken.count(id) > 0; }),
              ids.end());
    decision.placements.push_back(GangPlacement{job->id(), std::move(candidates)});
  }
  return decision;
}

}  // namespace simclr::coordinator
