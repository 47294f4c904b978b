// `simclrctl describe job X`: one job as a person reads it, with its events.
#ifndef SIMCLR_CLIENT_DESCRIBE_H_
#define SIMCLR_CLIENT_DESCRIBE_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "proto/simclr/v1/job.pb.h"

namespace simclr::client {

// What happened in one event, e.g. "attempt 2 started", "attempt 1 ended,
// requeued", "attempt 2 says" (a note of the trainer's), "submitted",
// "succeeded".
std::string EventTitle(const v1::JobEvent& event);

// The details: for an attempt's start its gang, the checkpoint it resumes
// from and the steps it trains again; for an end the step reached and why.
std::string EventDetail(const v1::JobEvent& event);

// The job's identity, state and reason, attempts and restarts, gang,
// progress, checkpoint and artifact directory, its spec (YAML), and its
// events, oldest first, as a table (TIME, EVENT, DETAIL), times in UTC with
// their age at `now`.
std::string FormatDescription(const v1::Job& job, const std::vector<v1::JobEvent>& events,
                              absl::Time now);

}  // namespace simclr::client

#endif  // SIMCLR_CLIENT_DESCRIBE_H_
