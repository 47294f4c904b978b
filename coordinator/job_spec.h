// Validation and defaults for job specs, independent of any transport.
//
// A spec is checked on its own (CheckJobSpec) and then completed with the
// defaults of its kind (ApplyDefaults), so the stored spec states every value a
// run uses. Checks that involve other jobs (unique names, parents, cycles)
// belong to Coordinator::SubmitJobs.
#ifndef SIMCLR_COORDINATOR_JOB_SPEC_H_
#define SIMCLR_COORDINATOR_JOB_SPEC_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/job_kinds.h"
#include "proto/simclr/v1/job.pb.h"

namespace simclr::coordinator {

// The kind of a spec that passed CheckJobSpec (every stored spec did); a
// programming error, which aborts, otherwise. The rules of each kind are in
// common/job_kinds.h.
const JobKind& KindOf(const v1::JobSpec& spec);

// The job a spec depends on as it names it (its parent or teacher; "" for
// none).
const std::string& DependencyName(const v1::JobSpec& spec);

// What the operator allows a spec (the coordinator's flags).
struct SpecLimits {
  int max_world_size = 4096;
  // Dataset directories and label index files must lie under one of these
  // (checked lexically; workers check again with links resolved). Empty:
  // any path.
  std::vector<std::string> data_roots;
};

// Returns InvalidArgument naming the first bad field, its value and what was
// expected, e.g. `world_size: got 0, expected an integer >= 1`. Every number
// is range-checked (finite, and small enough that no step count computed from
// it overflows), every string bounded. Does not look at other jobs.
absl::Status CheckJobSpec(const v1::JobSpec& spec, const SpecLimits& limits = {});

// True for "j-<digits>", the form of job ids, which no name may take.
bool IsJobIdShaped(absl::string_view text);

// Fills every unset field with the default of the spec's kind. `inherited` is
// the parent's (finetune, linear_eval) or teacher's (distill) completed spec, or
// nullptr for pretrain: children inherit its data and, for finetune and
// linear_eval, its model. Requires CheckJobSpec(spec).ok().
void ApplyDefaults(const v1::JobSpec* inherited, v1::JobSpec& spec);

// Checks that need the parent or teacher: e.g. from_head_layer must name a
// layer of the parent's projection head. `spec` is already completed.
absl::Status CheckAgainstParent(const v1::JobSpec& parent, const v1::JobSpec& spec);

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_JOB_SPEC_H_
