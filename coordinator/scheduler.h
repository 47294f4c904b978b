// Gang placement: which queued jobs start now, on which workers.
#ifndef SIMCLR_COORDINATOR_SCHEDULER_H_
#define SIMCLR_COORDINATOR_SCHEDULER_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "proto/simclr/v1/job.pb.h"
#include "proto/simclr/v1/worker.pb.h"

namespace simclr::coordinator {

struct GangPlacement {
  std::string job_id;
  std::vector<std::string> worker_ids;  // index = rank
};

// Why a queued job did not start, for its `reason` field.
struct Waiting {
  std::string job_id;
  std::string reason;
};

struct SchedulingDecision {
  std::vector<GangPlacement> placements;
  std::vector<Waiting> waiting;
};

// Pure function of its inputs (no clock, no I/O).
//
// Policy: jobs are considered by priority (higher first), then by the time
// they were queued, then by id. A job of world size N starts only when N idle
// workers of its device kind exist, all at once, as ranks 0..N-1 (workers in
// registration order, except that the job's avoided_workers come after the
// others, and unhealthy workers after all: a worker an earlier attempt failed
// on, or one that keeps failing, is used only when no other is idle). A job
// that does not fit holds back later jobs of the
// same device kind, so a big gang is never starved by a stream of small ones;
// a job larger than all live workers of its kind cannot block anybody and
// waits with a reason saying so.
//
// NOTE [scheduling cost]: placing needs the idle workers of a device kind one
// by one, explaining why a job waits only their number. The fleet is
// therefore given as counts, which the worker registry keeps for free, and a
// lister that PlaceGangs asks only for the kinds some job can start on (at
// most once per kind): a queue that cannot start never walks a fleet of
// 10,000 workers, however often it is scheduled (every submission is).
struct FleetView {
  // The live, idle, not draining workers of `device` in registration order.
  std::function<std::vector<const v1::Worker*>(const std::string& device)> idle_workers;
  std::map<std::string, int> idle_count_by_device;  // the sizes of those lists
  std::map<std::string, int> live_count_by_device;  // idle or busy
};

SchedulingDecision PlaceGangs(const std::vector<const v1::Job*>& queued, const FleetView& fleet);

// The same for a fleet given as its idle workers (any order of kinds, each
// kind in registration order) and live counts.
SchedulingDecision PlaceGangs(const std::vector<const v1::Job*>& queued,
                              const std::vector<const v1::Worker*>& idle_workers,
                              const std::map<std::string, int>& live_workers_by_device);

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_SCHEDULER_H_
