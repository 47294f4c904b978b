#include "coordinator/coordinator.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "common/version.h"
#include "coordinator/job_spec.h"
#include "coordinator/scheduler.h"
#include "model/checkpoint/checkpoint_files.h"

namespace simclr::coordinator {
namespace {

int64_t JobNumber(const std::string& id) {
  int64_t n = 0;
  if (id.rfind("j-", 0) != 0 || !absl::SimpleAtoi(id.substr(2), &n)) return 0;
  return n;
}

std::string Describe(const v1::Job& job) {
  return absl::StrCat("\"", job.spec().name(), "\" (", job.id(), ")");
}

// Which word to use for a job's dependency in messages.
const char* DependencyWord(const v1::JobSpec& spec) { return KindOf(spec).dependency_field(); }

}  // namespace

std::string TaskId(const std::string& job_id, int attempt) {
  return absl::StrCat(job_id, ".", attempt);
}

// `text` cut to at most `max_bytes` (at a UTF-8 character boundary), with
// " [cut]" appended when it was longer.
std::string Truncate(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + " [cut]";
}

bool ParseTaskId(const std::string& task_id, std::string* job_id, int* attempt) {
  const size_t dot = task_id.rfind('.');
  if (dot == std::string::npos) return false;
  *job_id = task_id.substr(0, dot);
  return absl::SimpleAtoi(task_id.substr(dot + 1), attempt);
}

bool IsFinal(v1::JobState state) {
  return state == v1::SUCCEEDED || state == v1::FAILED || state == v1::CANCELLED;
}

// See coordinator.h. Holds copies of the jobs it changes; nothing is visible
// to readers until Commit() succeeded.
// Notes a report may add to the job's events (TaskContext::Note).
constexpr int kMaxNotesPerReport = 8;

// The event recording that `job` went from `from` to its state at `now`.
v1::JobEvent TransitionEvent(const v1::Job& job, v1::JobState from, absl::Time now) {
  v1::JobEvent event;
  event.set_job_id(job.id());
  *event.mutable_time() = ToProto(now);
  event.set_from_state(from);
  event.set_to_state(job.state());
  event.set_attempt(job.attempts());
  if (job.state() == v1::RUNNING) *event.mutable_workers() = job.workers();
  event.set_checkpoint(job.checkpoint());
  event.set_step(job.progress().step());
  event.set_message(job.reason());
  return event;
}

class Coordinator::Change {
 public:
  explicit Change(Coordinator* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) : c_(c) {}

  // A mutable copy of `id`'s job (the staged one if already staged).
  v1::Job& Stage(const std::string& id) {
    auto it = staged_.find(id);
    if (it != staged_.end()) return it->second;
    const v1::Job& current = c_->jobs_.at(c_->number_by_id_.at(id));
    from_[id] = current.state();
    return staged_.emplace(id, current).first->second;
  }

  v1::Job& Add(v1::Job job) {
    from_[job.id()] = v1::JOB_STATE_UNSPECIFIED;
    const std::string id = job.id();
    return staged_.emplace(id, std::move(job)).first->second;
  }

  // The job as this change would leave it.
  const v1::Job* Current(const std::string& id) const ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto it = staged_.find(id);
    if (it != staged_.end()) return &it->second;
    auto n = c_->number_by_id_.find(id);
    return n == c_->number_by_id_.end() ? nullptr : &c_->jobs_.at(n->second);
  }

  // Every job id this change would leave in existence, stored or staged.
  std::vector<std::string> AllIds() const ABSL_NO_THREAD_SAFETY_ANALYSIS {
    std::vector<std::string> ids;
    for (const auto& [n, job] : c_->jobs_) ids.push_back(job.id());
    for (const auto& [id, job] : staged_) {
      if (c_->number_by_id_.count(id) == 0) ids.push_back(id);
    }
    return ids;
  }

  bool empty() const { return staged_.empty(); }

  // An event to store with this change (besides the transitions).
  void AddEvent(v1::JobEvent event) { events_.push_back(std::move(event)); }

  // Stores every staged job, an event for each one whose state changed and
  // the added events in one commit; then makes them current.
  absl::Status Commit() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (staged_.empty()) return absl::OkStatus();
    const absl::Time now = c_->clock_->Now();
    std::vector<v1::Job> jobs;
    std::vector<v1::JobEvent> events = std::move(events_);
    events_.clear();
    for (const auto& [id, job] : staged_) {
      jobs.push_back(job);
      if (from_[id] != job.state()) events.push_back(TransitionEvent(job, from_[id], now));
    }
    // NOTE [commits outside the lock]: the store writes (an fsync) while
    // heartbeats and readers go on; the caller holds writer_mu_, so no other
    // mutation interleaves.
    c_->mu_.Unlock();
    const absl::Status stored = c_->store_->Put(jobs, events);
    c_->mu_.Lock();
    RETURN_IF_ERROR(stored);
    for (auto& [id, job] : staged_) {
      const int64_t number = JobNumber(id);
      c_->number_by_id_[id] = number;
      c_->jobs_[number] = job;
      ++c_->versions_[id];
      c_->last_persisted_[id] = now;
      if (c_->observer_ != nullptr && from_[id] != job.state()) {
        c_->observer_->OnTransition(job, from_[id]);
        if (from_[id] == v1::RUNNING && job.state() == v1::QUEUED) c_->observer_->OnRestart(job);
      }
    }
    staged_.clear();
    return absl::OkStatus();
  }

 private:
  Coordinator* const c_;
  std::map<std::string, v1::Job> staged_;
  std::map<std::string, v1::JobState> from_;
  std::vector<v1::JobEvent> events_;
};

Coordinator::Coordinator(CoordinatorOptions options, JobStore* store, const Clock* clock,
                         CoordinatorObserver* observer)
    : options_(std::move(options)),
      store_(store),
      clock_(clock),
      observer_(observer),
      incarnation_(absl::Uniform<uint64_t>(absl::BitGen(), 1, std::numeric_limits<uint64_t>::max())),
      registry_(*clock, options_.registry) {}

absl::StatusOr<std::unique_ptr<Coordinator>> Coordinator::Create(
    CoordinatorOptions options, JobStore* store, const Clock* clock,
    CoordinatorObserver* observer) {
  std::unique_ptr<Coordinator> c(new Coordinator(std::move(options), store, clock, observer));
  absl::MutexLock lock(&c->mu_);
  RETURN_IF_ERROR(c->Recover());
  return c;
}

absl::Status Coordinator::Recover() {
  ASSIGN_OR_RETURN(std::vector<v1::Job> jobs, store_->LoadAll());
  for (v1::Job& job : jobs) {
    const int64_t number = JobNumber(job.id());
    if (number == 0) return absl::DataLossError(absl::StrCat("stored job has a bad id: ", job.id()));
    next_job_number_ = std::max(next_job_number_, number + 1);
    number_by_id_[job.id()] = number;
    versions_[job.id()] = 1;
    jobs_[number] = std::move(job);
  }
  // NOTE [reconciliation]: running gangs get one lease period to come back.
  for (auto& [number, job] : jobs_) {
    if (job.state() != v1::RUNNING) continue;
    reconciling_.try_emplace(job.id());  // no rank back yet
    for (const std::string& worker : job.workers()) {
      int64_t n = 0;
      if (absl::StartsWith(worker, "w-") && absl::SimpleAtoi(worker.substr(2), &n)) {
        registry_.SkipIdsThrough(n);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Coordinator::Reconcile(const std::string& worker,
                                    const v1::RegisterWorkerRequest& r) {
  std::string job_id;
  int attempt = 0;
  if (r.running_task_id().empty() || !ParseTaskId(r.running_task_id(), &job_id, &attempt)) {
    return absl::OkStatus();
  }
  auto it = reconciling_.find(job_id);
  const v1::Job* job = LookupById(job_id);
  const int rank = r.running_rank();
  if (it == reconciling_.end() || job == nullptr || job->state() != v1::RUNNING ||
      job->attempts() != attempt || rank < 0 || rank >= job->workers_size() ||
      it->second.count(rank) > 0) {
    return absl::OkStatus();  // not waited for: its next heartbeat stops the task
  }
  const bool last = static_cast<int>(it->second.size()) + 1 == job->workers_size();
  Change change(this);
  v1::Job& staged = change.Stage(job_id);
  staged.set_workers(rank, worker);
  if (last) {
    v1::JobEvent back = TransitionEvent(staged, v1::RUNNING, clock_->Now());
    back.set_message(absl::StrCat("every rank of attempt ", attempt,
                                  " came back after the coordinator restarted; it continues"));
    change.AddEvent(std::move(back));
  }
  RETURN_IF_ERROR(change.Commit());
  v1::TaskAssignment running;
  running.set_task_id(r.running_task_id());
  running.set_job_id(job_id);
  running.set_rank(rank);
  registry_.Assign(worker, running);
  registry_.Acknowledge(worker, running.task_id());
  if (last) {
    reconciling_.erase(it);
  } else {
    it->second.insert(rank);
  }
  return absl::OkStatus();
}

bool Coordinator::FromThisIncarnation(uint64_t incarnation) const {
  return incarnation == 0 || incarnation == incarnation_;
}

bool Coordinator::WaitingForRank(const v1::Job* job, int attempt, const std::string& worker,
                                 const std::string& task_id) const {
  return job != nullptr && reconciling_.count(job->id()) > 0 && job->state() == v1::RUNNING &&
         job->attempts() == attempt && registry_.TaskOf(worker) != task_id;
}

void Coordinator::RequeueUnreconciled(Change& change) {
  const bool time_is_up =
      clock_->Now() - registry_.leases_run_from() > registry_.lease_timeout();
  for (auto it = reconciling_.begin(); it != reconciling_.end();) {
    const v1::Job* job = change.Current(it->first);
    if (job == nullptr || job->state() != v1::RUNNING) {
      it = reconciling_.erase(it);
      continue;
    }
    if (!time_is_up) {
      ++it;
      continue;
    }
    std::vector<std::string> missing;
    for (int rank = 0; rank < job->workers_size(); ++rank) {
      if (it->second.count(rank) == 0) missing.push_back(absl::StrCat(rank));
    }
    FailAttempt(change, change.Stage(it->first),
                absl::StrCat("the coordinator restarted, and rank(s) ", absl::StrJoin(missing, ", "),
                             " did not come back within ",
                             absl::FormatDuration(registry_.lease_timeout())),
                "", AttemptEnd::kInterrupted);
    it = reconciling_.erase(it);
  }
}

const v1::Job* Coordinator::Lookup(const std::string& id_or_name) const {
  auto n = number_by_id_.find(id_or_name);
  if (n != number_by_id_.end()) return &jobs_.at(n->second);
  const v1::Job* newest = nullptr;
  for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it) {
    const v1::Job& job = it->second;
    if (job.spec().name() != id_or_name) continue;
    if (!IsFinal(job.state())) return &job;  // names are unique among live jobs
    if (newest == nullptr) newest = &job;
  }
  return newest;
}

v1::Job* Coordinator::LookupById(const std::string& id) {
  auto n = number_by_id_.find(id);
  return n == number_by_id_.end() ? nullptr : &jobs_.at(n->second);
}

absl::StatusOr<std::vector<std::string>> Coordinator::SubmitJobs(
    const std::vector<v1::JobSpec>& input, const std::string& principal) {
  if (input.empty()) return absl::InvalidArgumentError("specs: got none, expected at least one job spec");
  if (input.size() > kMaxSpecsPerSubmit) {
    return absl::InvalidArgumentError(absl::StrCat("specs: got ", input.size(),
                                                   ", expected at most ", kMaxSpecsPerSubmit));
  }
  auto error = [&](size_t i, const absl::Status& s) {
    return absl::InvalidArgumentError(absl::StrCat("spec ", i + 1, " (",
                                                   input[i].name().empty() ? "unnamed" : input[i].name(),
                                                   "): ", s.message()));
  };
  for (size_t i = 0; i < input.size(); ++i) {
    absl::Status s = CheckJobSpec(input[i], options_.spec_limits);
    if (!s.ok()) return error(i, s);
  }

  absl::MutexLock writer(&writer_mu_);  // NOTE [commits outside the lock]
  absl::MutexLock lock(&mu_);
  // Names: unique within the request and among live jobs.
  std::map<std::string, size_t> index_by_name;
  for (size_t i = 0; i < input.size(); ++i) {
    const std::string& name = input[i].name();
    if (!index_by_name.emplace(name, i).second) {
      return error(i, absl::InvalidArgumentError(absl::StrCat(
                          "name: \"", name, "\" is used by spec ", index_by_name[name] + 1,
                          " too, expected names unique within the file")));
    }
    const v1::Job* existing = Lookup(name);
    if (existing != nullptr && existing->spec().name() == name && !IsFinal(existing->state())) {
      return absl::AlreadyExistsError(absl::StrCat(
          "spec ", i + 1, " (", name, "): name: \"", name, "\" is already used by live job ",
          existing->id(), " (", v1::JobState_Name(existing->state()),
          "), expected a name unique among live jobs"));
    }
  }

  // Dependencies: a spec in this request (by name) or an existing job.
  std::vector<int> dep_index(input.size(), -1);
  std::vector<const v1::Job*> dep_job(input.size(), nullptr);
  for (size_t i = 0; i < input.size(); ++i) {
    const std::string& ref = DependencyName(input[i]);
    if (ref.empty()) continue;
    auto in_file = index_by_name.find(ref);
    if (in_file != index_by_name.end()) {
      dep_index[i] = static_cast<int>(in_file->second);
      continue;
    }
    const v1::Job* job = Lookup(ref);
    if (job == nullptr) {
      return error(i, absl::InvalidArgumentError(absl::StrCat(
                          DependencyWord(input[i]), ": \"", ref,
                          "\" is neither a job nor a spec in this request")));
    }
    if (job->state() == v1::FAILED || job->state() == v1::CANCELLED) {
      return error(i, absl::InvalidArgumentError(absl::StrCat(
                          DependencyWord(input[i]), ": ", Describe(*job), " is ",
                          v1::JobState_Name(job->state()),
                          ", expected a job that is pending, running or succeeded")));
    }
    dep_job[i] = job;
  }
  // Cycles within the request, and an order that puts parents first.
  std::vector<size_t> order;
  std::vector<int> mark(input.size(), 0);  // 0 new, 1 on the path, 2 done
  for (size_t start = 0; start < input.size(); ++start) {
    std::vector<size_t> path;
    size_t i = start;
    while (mark[i] == 0) {
      mark[i] = 1;
      path.push_back(i);
      if (dep_index[i] < 0) break;
      i = static_cast<size_t>(dep_index[i]);
    }
    // Stopped on a node of this very path that has a dependency: a cycle.
    if (mark[i] == 1 && dep_index[i] >= 0) {
      std::vector<std::string> cycle;
      auto at = std::find(path.begin(), path.end(), i);
      for (auto it = at; it != path.end(); ++it) cycle.push_back(input[*it].name());
      cycle.push_back(input[i].name());
      return error(i, absl::InvalidArgumentError(absl::StrCat(
                          DependencyWord(input[i]), ": the jobs form a cycle ",
                          absl::StrJoin(cycle, " -> "), ", expected a chain that starts at a pretrain job")));
    }
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
      mark[*it] = 2;
      order.push_back(*it);
    }
  }

  // Complete every spec (parents first) and stage the jobs.
  const absl::Time now = clock_->Now();
  std::vector<v1::Job> created(input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    created[i].set_id(absl::StrCat("j-", next_job_number_ + static_cast<int64_t>(i)));
  }
  for (size_t i : order) {
    v1::Job& job = created[i];
    *job.mutable_spec() = input[i];
    *job.mutable_submitted_spec() = input[i];
    const v1::Job* dep = dep_index[i] >= 0 ? &created[dep_index[i]] : dep_job[i];
    ApplyDefaults(dep ? &dep->spec() : nullptr, *job.mutable_spec());
    if (dep != nullptr) {
      absl::Status s = CheckAgainstParent(dep->spec(), job.spec());
      if (!s.ok()) return error(i, s);
      job.set_parent_id(dep->id());
    }
    const bool ready = dep == nullptr || (dep_index[i] < 0 && dep->state() == v1::SUCCEEDED);
    job.set_state(ready ? v1::QUEUED : v1::PENDING);
    *job.mutable_created_at() = ToProto(now);
    if (ready) *job.mutable_queued_at() = ToProto(now);
    job.set_artifact_dir(absl::StrCat(options_.artifact_root, "/", job.id()));
    job.set_submitted_by(principal);
    job.mutable_progress();
  }
  Change change(this);
  std::vector<std::string> ids;
  for (v1::Job& job : created) {
    ids.push_back(job.id());
    change.Add(std::move(job));
  }
  RETURN_IF_ERROR(change.Commit());
  next_job_number_ += static_cast<int64_t>(input.size());
  // The jobs are stored; failing to start them now is retried by Tick().
  // kAlways: a new job says at once why it waits.
  Schedule(Placement::kAlways).IgnoreError();
  return ids;
}

absl::StatusOr<v1::Job> Coordinator::GetJob(const std::string& id_or_name) const {
  absl::ReaderMutexLock lock(&mu_);
  const v1::Job* job = Lookup(id_or_name);
  if (job == nullptr) return absl::NotFoundError(absl::StrCat("job \"", id_or_name, "\" not found"));
  return *job;
}

std::vector<v1::Job> Coordinator::ListJobs(const std::set<v1::JobState>& states) const {
  absl::ReaderMutexLock lock(&mu_);
  // Newest first up to the cap, then put back in order (oldest first).
  std::vector<v1::Job> jobs;
  for (auto it = jobs_.rbegin(); it != jobs_.rend() && jobs.size() < kMaxListedJobs; ++it) {
    if (states.empty() || states.count(it->second.state()) > 0) jobs.push_back(it->second);
  }
  std::reverse(jobs.begin(), jobs.end());
  return jobs;
}

absl::StatusOr<v1::ListJobsResponse> Coordinator::ListJobsPage(
    const v1::ListJobsRequest& request) const {
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat("page_size: got ", request.page_size(),
                                                   ", expected 0 (", kDefaultPageSize,
                                                   ") to ", kMaxPageSize));
  }
  const size_t page_size = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  // The token is the number of the last job of the previous page.
  int64_t after = 0;
  if (!request.page_token().empty() &&
      (!absl::SimpleAtoi(request.page_token(), &after) || after < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token: got \"", request.page_token(),
        "\", expected the next_page_token of a previous ListJobs answer"));
  }
  std::vector<std::pair<std::string, std::string>> selector;
  for (absl::string_view term : absl::StrSplit(request.label_selector(), ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> pair = absl::StrSplit(term, absl::MaxSplits('=', 1));
    if (pair.first.empty() || term.find('=') == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "label_selector: term \"", term, "\", expected key=value[,key=value...]"));
    }
    selector.push_back(std::move(pair));
  }
  std::set<int> states(request.states().begin(), request.states().end());
  auto matches = [&](const v1::Job& job) {
    if (!states.empty() && states.count(job.state()) == 0) return false;
    for (const auto& [key, value] : selector) {
      auto it = job.spec().labels().find(key);
      if (it == job.spec().labels().end() || it->second != value) return false;
    }
    return true;
  };
  v1::ListJobsResponse page;
  absl::ReaderMutexLock lock(&mu_);
  for (auto it = jobs_.upper_bound(after); it != jobs_.end(); ++it) {
    if (!matches(it->second)) continue;
    if (static_cast<size_t>(page.jobs_size()) == page_size) {
      page.set_next_page_token(absl::StrCat(JobNumber(page.jobs(page.jobs_size() - 1).id())));
      break;
    }
    *page.add_jobs() = it->second;
  }
  return page;
}

absl::StatusOr<v1::Job> Coordinator::CancelJob(const std::string& id_or_name,
                                               const std::string& principal, bool admin) {
  absl::MutexLock writer(&writer_mu_);  // NOTE [commits outside the lock]
  absl::MutexLock lock(&mu_);
  const v1::Job* found = Lookup(id_or_name);
  if (found == nullptr) return absl::NotFoundError(absl::StrCat("job \"", id_or_name, "\" not found"));
  if (!admin && found->submitted_by() != principal) {
    return absl::PermissionDeniedError(absl::StrCat(
        "job ", found->id(), " was submitted by \"", found->submitted_by(),
        "\": only they or an admin may cancel it"));
  }
  if (IsFinal(found->state())) return *found;
  Change change(this);
  v1::Job& job = change.Stage(found->id());
  // A running gang is told to stop in each worker's next heartbeat reply (the
  // job is no longer RUNNING, so its tasks are stale); the workers stay busy
  // until they confirm with CompleteTask.
  job.set_state(v1::CANCELLED);
  job.set_reason(principal.empty() ? "cancelled by user"
                                   : absl::StrCat("cancelled by ", principal));
  *job.mutable_finished_at() = ToProto(clock_->Now());
  const std::string id = job.id();
  ResolveDependents(change);
  RETURN_IF_ERROR(change.Commit());
  completed_ranks_.erase(id);
  return *LookupById(id);
}

std::set<std::string> Coordinator::NeededJobs() const {
  std::set<std::string> needed;
  for (const auto& [number, job] : jobs_) {
    if (!IsFinal(job.state()) && !job.parent_id().empty()) needed.insert(job.parent_id());
  }
  return needed;
}

std::string Coordinator::WhyUndeletable(const v1::Job& job,
                                        const std::set<std::string>& needed) const {
  if (!IsFinal(job.state())) {
    return absl::StrCat("it is ", v1::JobState_Name(job.state()),
                        "; cancel it first (simclrctl delete --cancel)");
  }
  if (needed.count(job.id()) > 0) {
    for (const auto& [number, other] : jobs_) {
      if (other.parent_id() == job.id() && !IsFinal(other.state())) {
        return absl::StrCat("job ", other.id(), " (", other.spec().name(), ", ",
                            v1::JobState_Name(other.state()), ") starts from it");
      }
    }
  }
  if (const v1::Worker* worker = registry_.RunningJob(job.id()); worker != nullptr) {
    return absl::StrCat("worker ", worker->id(), " still runs its rank ", worker->rank(),
                        "; a cancelled gang stops within a heartbeat, try again");
  }
  return "";
}

absl::StatusOr<std::vector<std::string>> Coordinator::EraseJobs(
    const std::vector<std::string>& ids) {
  // NOTE [commits outside the lock]
  mu_.Unlock();
  const absl::Status stored = store_->Delete(ids);
  mu_.Lock();
  RETURN_IF_ERROR(stored);
  std::vector<std::string> dirs;
  for (const std::string& id : ids) {
    auto n = number_by_id_.find(id);
    if (n == number_by_id_.end()) continue;
    dirs.push_back(jobs_.at(n->second).artifact_dir());
    jobs_.erase(n->second);
    number_by_id_.erase(n);
    versions_.erase(id);  // wakes the watches of the job, which then end
    completed_ranks_.erase(id);
    last_persisted_.erase(id);
  }
  return dirs;
}

absl::Status Coordinator::RemoveArtifacts(const std::string& dir) const {
  const std::filesystem::path root =
      std::filesystem::path(options_.artifact_root).lexically_normal();
  const std::filesystem::path path = std::filesystem::path(dir).lexically_normal();
  const auto [root_end, path_it] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  if (dir.empty() || root_end != root.end() || path_it == path.end()) {
    return absl::OkStatus();  // not ours to remove
  }
  std::error_code error;
  std::filesystem::remove_all(path, error);
  if (error) {
    return absl::InternalError(absl::StrCat("removing ", dir, ": ", error.message()));
  }
  return absl::OkStatus();
}

absl::Status Coordinator::DeleteJob(const std::string& id_or_name, bool cancel,
                                    const std::string& principal, bool admin) {
  if (cancel) {
    absl::StatusOr<v1::Job> cancelled = CancelJob(id_or_name, principal, admin);
    if (!cancelled.ok()) return cancelled.status();
  }
  std::vector<std::string> dirs;
  std::string id;
  {
    absl::MutexLock writer(&writer_mu_);
    absl::MutexLock lock(&mu_);
    const v1::Job* found = Lookup(id_or_name);
    if (found == nullptr) {
      return absl::NotFoundError(absl::StrCat("job \"", id_or_name, "\" not found"));
    }
    id = found->id();
    if (!admin && found->submitted_by() != principal) {
      return absl::PermissionDeniedError(absl::StrCat(
          "job ", id, " was submitted by \"", found->submitted_by(),
          "\": only they or an admin may delete it"));
    }
    const std::string why = WhyUndeletable(*found, NeededJobs());
    if (!why.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("job ", id, " cannot be deleted: ", why));
    }
    ASSIGN_OR_RETURN(dirs, EraseJobs({id}));
  }
  for (const std::string& dir : dirs) {
    absl::Status removed = RemoveArtifacts(dir);
    if (!removed.ok()) {
      return absl::InternalError(absl::StrCat("job ", id, " is deleted, but its artifacts are not: ",
                                              removed.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Coordinator::Snapshot> Coordinator::WaitForChange(const std::string& id_or_name,
                                                                 int64_t after_version,
                                                                 absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const v1::Job* job = Lookup(id_or_name);
  if (job == nullptr) return absl::NotFoundError(absl::StrCat("job \"", id_or_name, "\" not found"));
  const std::string id = job->id();
  auto changed = [this, &id, after_version]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto it = versions_.find(id);
    return it == versions_.end() || it->second > after_version;  // deleted, or changed
  };
  mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  auto n = number_by_id_.find(id);
  if (n == number_by_id_.end()) return absl::NotFoundError(absl::StrCat("job ", id, " was deleted"));
  return Snapshot{jobs_.at(n->second), versions_.at(id)};
}

std::vector<v1::Worker> Coordinator::ListWorkers() const {
  absl::ReaderMutexLock lock(&mu_);
  return registry_.List();
}

absl::Status Coordinator::CheckSpeaksFor(const std::string& worker_id,
                                         const std::string& principal) const {
  if (principal.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  const std::string* owner = registry_.PrincipalOf(worker_id);
  if (owner == nullptr || *owner == principal) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "principal \"", principal, "\" may not speak for worker ", worker_id));
}

absl::StatusOr<v1::RegisterWorkerResponse> Coordinator::RegisterWorker(
    const v1::RegisterWorkerRequest& r, const std::string& principal) {
  if (r.collective_address().empty()) {
    return absl::InvalidArgumentError(
        "collective_address: got nothing, expected host:port where this worker serves a "
        "rendezvous");
  }
  for (const auto& [field, value] :
       {std::pair<const char*, const std::string*>{"hostname", &r.hostname()},
        {"name", &r.name()}, {"device_name", &r.device_name()},
        {"collective_address", &r.collective_address()}}) {
    if (value->size() > 255) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": got ", value->size(), " characters, expected at most 255"));
    }
  }
  if (!r.device_kind().empty() && r.device_kind() != "cpu" && r.device_kind() != "cuda") {
    return absl::InvalidArgumentError(absl::StrCat("device_kind: got \"", r.device_kind(),
                                                   "\", expected cpu or cuda"));
  }
  if (r.protocol_version() != kWorkerProtocolVersion) {
    return ProtocolMismatch("worker", r.protocol_version(), "coordinator");
  }
  absl::MutexLock writer(&writer_mu_);  // NOTE [commits outside the lock]
  absl::MutexLock lock(&mu_);
  if (!r.name().empty() && !principal.empty()) {
    const std::string* owner = registry_.PrincipalOf(r.name());
    if (owner != nullptr && *owner != principal) {
      return absl::PermissionDeniedError(absl::StrCat(
          "worker \"", r.name(), "\" is registered by another principal"));
    }
  }
  v1::RegisterWorkerResponse response;
  response.set_protocol_version(kWorkerProtocolVersion);
  response.set_coordinator_incarnation(incarnation_);
  response.set_worker_id(registry_.Register(r, principal));
  RETURN_IF_ERROR(Reconcile(response.worker_id(), r));
  response.set_heartbeat_interval_ms(absl::ToInt64Milliseconds(options_.registry.heartbeat_interval));
  response.set_lease_timeout_ms(absl::ToInt64Milliseconds(registry_.lease_timeout()));
  Change change(this);
  FailGangsWithDeadMembers(change);  // a re-registered name lost its task
  RETURN_IF_ERROR(change.Commit());
  Schedule().IgnoreError();
  return response;
}

bool Coordinator::IsCurrentTask(const std::string& task_id) const {
  std::string job_id;
  int attempt = 0;
  if (!ParseTaskId(task_id, &job_id, &attempt)) return false;
  auto n = number_by_id_.find(job_id);
  if (n == number_by_id_.end()) return false;
  const v1::Job& job = jobs_.at(n->second);
  return job.state() == v1::RUNNING && job.attempts() == attempt;
}

std::vector<std::string> Coordinator::StaleTasks(const std::string& worker_id,
                                                 const std::vector<std::string>& running) const {
  std::vector<std::string> stale;
  const std::string current = registry_.TaskOf(worker_id);
  for (const std::string& task : running) {
    if (task != current || !IsCurrentTask(task)) stale.push_back(task);
  }
  return stale;
}

absl::StatusOr<v1::HeartbeatResponse> Coordinator::Heartbeat(const v1::HeartbeatRequest& r) {
  absl::MutexLock lock(&mu_);
  v1::HeartbeatResponse response;
  if (!FromThisIncarnation(r.coordinator_incarnation()) ||
      !registry_.Heartbeat(r.worker_id()).ok()) {
    response.set_reregister(true);
    return response;
  }
  const std::string& worker = r.worker_id();
  if (r.draining()) registry_.SetDraining(worker);
  std::vector<std::string> running(r.running_task_ids().begin(), r.running_task_ids().end());
  for (const std::string& task : running) registry_.Acknowledge(worker, task);
  for (std::string& task : StaleTasks(worker, running)) {
    response.add_cancel_task_ids(std::move(task));
  }
  const std::string task = registry_.TaskOf(worker);
  bool released = false;
  if (auto assignment = registry_.Undelivered(worker); assignment.has_value()) {
    if (IsCurrentTask(assignment->task_id())) {
      *response.add_assignments() = *std::move(assignment);
    } else {
      // The attempt ended before this rank ever started it.
      released = registry_.Release(worker, assignment->task_id());
    }
  } else if (!task.empty() &&
             std::find(running.begin(), running.end(), task) == running.end()) {
    // The worker acknowledged the task once and no longer runs it, without a
    // CompleteTask that arrived: its rank is gone.
    released = registry_.Release(worker, task);
  }
  if (!released) return response;  // the common case: nothing changed
  // A rank is gone: its gang fails. That is a mutation, so it waits for the
  // writer's turn (NOTE [commits outside the lock]); the state is scanned
  // afresh then.
  mu_.Unlock();
  absl::Status failed;
  {
    absl::MutexLock writer(&writer_mu_);
    mu_.Lock();  // held again when `lock` releases it
    Change change(this);
    FailGangsWithDeadMembers(change);
    failed = change.Commit();
    if (failed.ok()) failed = Schedule();
  }
  RETURN_IF_ERROR(failed);
  return response;
}

void Coordinator::MergeReportedMetrics(const google::protobuf::Map<std::string, double>& reported,
                                       v1::Job& job) const {
  auto& metrics = *job.mutable_metrics();
  for (const auto& [name, value] : reported) {
    if (name.size() > 64) continue;
    const bool known = metrics.count(name) > 0;
    if (!known && static_cast<int>(metrics.size()) >= options_.max_reported_metrics) continue;
    metrics[name] = value;
  }
}

absl::StatusOr<v1::ReportProgressResponse> Coordinator::ReportProgress(
    const v1::ReportProgressRequest& r) {
  absl::MutexLock writer(&writer_mu_);  // NOTE [commits outside the lock]
  absl::MutexLock lock(&mu_);
  v1::ReportProgressResponse response;
  std::string job_id;
  int attempt = 0;
  if (!ParseTaskId(r.task_id(), &job_id, &attempt)) {
    return absl::InvalidArgumentError(absl::StrCat("task_id: got \"", r.task_id(),
                                                   "\", expected <job id>.<attempt>"));
  }
  if (!FromThisIncarnation(r.coordinator_incarnation())) {
    return response;  // its worker registers again first (its next heartbeat says so)
  }
  registry_.Acknowledge(r.worker_id(), r.task_id());
  v1::Job* job = LookupById(job_id);
  if (WaitingForRank(job, attempt, r.worker_id(), r.task_id())) {
    return response;  // NOTE [reconciliation]: its worker registers again first
  }
  if (job == nullptr || job->state() != v1::RUNNING || job->attempts() != attempt ||
      registry_.TaskOf(r.worker_id()) != r.task_id()) {
    if (observer_ != nullptr) observer_->OnStaleReport();
    RETURN_IF_ERROR(RecordLateCheckpoint(job, attempt, r.checkpoint()));
    response.set_cancelled(true);
    return response;
  }
  // Rank 0 speaks for the gang; other ranks only learn whether to stop.
  if (job->workers_size() == 0 || job->workers(0) != r.worker_id()) return response;

  const bool new_checkpoint = !r.checkpoint().empty() && r.checkpoint() != job->checkpoint();
  const absl::Time now = clock_->Now();
  if (new_checkpoint || !r.notes().empty() ||
      now - last_persisted_[job_id] >= options_.progress_persist_interval) {
    Change change(this);
    v1::Job& staged = change.Stage(job_id);
    if (r.has_progress()) *staged.mutable_progress() = r.progress();
    MergeReportedMetrics(r.metrics(), staged);
    if (new_checkpoint) staged.set_checkpoint(r.checkpoint());
    for (int i = 0; i < r.notes_size() && i < kMaxNotesPerReport; ++i) {
      v1::JobEvent event = TransitionEvent(staged, v1::RUNNING, now);
      event.set_message(Truncate(r.notes(i), options_.max_reason_bytes));
      change.AddEvent(std::move(event));
    }
    RETURN_IF_ERROR(change.Commit());
  } else {
    // Between persists, progress lives in memory only: losing a few seconds
    // of it in a crash costs nothing that the next report does not restore.
    if (r.has_progress()) *job->mutable_progress() = r.progress();
    MergeReportedMetrics(r.metrics(), *job);
    ++versions_[job_id];
  }
  return response;
}

absl::Status Coordinator::CompleteTask(const v1::CompleteTaskRequest& r) {
  absl::MutexLock writer(&writer_mu_);  // NOTE [commits outside the lock]
  absl::MutexLock lock(&mu_);
  std::string job_id;
  int attempt = 0;
  if (!ParseTaskId(r.task_id(), &job_id, &attempt)) {
    return absl::InvalidArgumentError(absl::StrCat("task_id: got \"", r.task_id(),
                                                   "\", expected <job id>.<attempt>"));
  }
  if (!FromThisIncarnation(r.coordinator_incarnation())) {
    return absl::UnavailableError(
        "this worker registered with an earlier coordinator process; retry after registering "
        "again");
  }
  const bool was_current = registry_.TaskOf(r.worker_id()) == r.task_id();
  v1::Job* job = LookupById(job_id);
  if (WaitingForRank(job, attempt, r.worker_id(), r.task_id())) {
    // NOTE [reconciliation]: the agent retries once its worker registered
    // again with this task.
    return absl::UnavailableError(absl::StrCat(
        "the coordinator restarted and waits for ", r.task_id(),
        "'s worker to register again; retry after that"));
  }
  if (!was_current || job == nullptr || job->state() != v1::RUNNING || job->attempts() != attempt) {
    // A stale attempt (cancelled, or restarted): the worker is free again.
    if (observer_ != nullptr) observer_->OnStaleReport();
    registry_.Release(r.worker_id(), r.task_id());
    return Schedule();
  }
  const auto rank_it = std::find(job->workers().begin(), job->workers().end(), r.worker_id());
  const int rank = static_cast<int>(rank_it - job->workers().begin());

  // Nothing changes in memory unless the store took the change.
  Change change(this);
  v1::Job& staged = change.Stage(job_id);
  std::set<int> done = completed_ranks_[job_id];
  if (r.success()) {
    if (!r.checkpoint().empty()) staged.set_checkpoint(r.checkpoint());
    MergeReportedMetrics(r.metrics(), staged);
    done.insert(rank);
    if (static_cast<int>(done.size()) == staged.spec().world_size()) {
      staged.set_state(v1::SUCCEEDED);
      staged.clear_reason();
      staged.mutable_progress()->set_step(staged.progress().total_steps());
      *staged.mutable_finished_at() = ToProto(clock_->Now());
    }
  }
  const std::string draining = DrainingMember(*job);
  if (!r.success() && !draining.empty()) {
    // The gang stopped because a member shuts down (NOTE [graceful drain]).
    FailAttempt(change, staged,
                absl::StrCat("worker ", draining,
                             " is shutting down; the gang stopped at the step it agreed on"),
                "", AttemptEnd::kInterrupted);
  } else if (!r.success()) {
    FailAttempt(change, staged,
                absl::StrCat("rank ", rank, " on worker ", r.worker_id(), " failed: ",
                             r.reason().empty() ? "no reason given"
                                                : Truncate(r.reason(), options_.max_reason_bytes),
                             r.permanent() ? " (a retry cannot fix this: not restarted)" : ""),
                r.worker_id(), r.permanent() ? AttemptEnd::kPermanent : AttemptEnd::kFault);
  }
  ResolveDependents(change);
  RETURN_IF_ERROR(change.Commit());
  registry_.Release(r.worker_id(), r.task_id());
  // A user's error (permanent) or a drain says nothing about the worker.
  if (r.success() || (!r.permanent() && draining.empty())) {
    registry_.RecordTaskOutcome(r.worker_id(), !r.success());
  }
  const v1::JobState state = LookupById(job_id)->state();
  if (state == v1::RUNNING) {
    completed_ranks_[job_id] = std::move(done);
  } else {
    completed_ranks_.erase(job_id);
  }
  return Schedule();
}

absl::Status Coordinator::DeregisterWorker(const v1::DeregisterWorkerRequest& r) {
  absl::MutexLock writer(&writer_mu_);  // NOTE [commits outside the lock]
  absl::MutexLock lock(&mu_);
  // A registration with an earlier coordinator process: nothing of it is here.
  if (!FromThisIncarnation(r.coordinator_incarnation())) return absl::OkStatus();
  RETURN_IF_ERROR(registry_.Deregister(r.worker_id()));
  Change change(this);
  FailGangsWithDeadMembers(change);
  RETURN_IF_ERROR(change.Commit());
  return Schedule();
}

absl::StatusOr<std::vector<v1::JobEvent>> Coordinator::ListJobEvents(
    const std::string& id_or_name) const {
  std::string id;
  {
    absl::ReaderMutexLock lock(&mu_);
    const v1::Job* job = Lookup(id_or_name);
    if (job == nullptr) {
      return absl::NotFoundError(absl::StrCat("job \"", id_or_name, "\" not found"));
    }
    id = job->id();
  }
  return store_->LoadEvents(id);
}

absl::Status Coordinator::Tick() {
  std::vector<std::string> expired_dirs;
  absl::Status status = [&]() -> absl::Status {
    absl::MutexLock writer(&writer_mu_);  // NOTE [commits outside the lock]
    absl::MutexLock lock(&mu_);
    registry_.ExpireLeases();
    // Every tick, not only the one that expired a lease: a failed commit is
    // retried here, so no gang keeps a dead member.
    Change change(this);
    // Only here, after ExpireLeases has seen whether the coordinator was
    // away, which moves the reconciliation's lease too.
    RequeueUnreconciled(change);
    FailGangsWithDeadMembers(change);
    RETURN_IF_ERROR(change.Commit());
    if (options_.retention > absl::ZeroDuration()) {
      const absl::Time cutoff = clock_->Now() - options_.retention;
      std::vector<std::string> expired;
      const std::set<std::string> needed = NeededJobs();  // once, not per job
      for (const auto& [number, job] : jobs_) {
        if (IsFinal(job.state()) && FromProto(job.finished_at()) < cutoff &&
            WhyUndeletable(job, needed).empty()) {
          expired.push_back(job.id());
        }
      }
      if (!expired.empty()) {
        ASSIGN_OR_RETURN(expired_dirs, EraseJobs(expired));
      }
    }
    return Schedule(Placement::kAlways);
  }();
  for (const std::string& dir : expired_dirs) {
    absl::Status removed = RemoveArtifacts(dir);
    if (status.ok() && !removed.ok()) status = removed;
  }
  return status;
}

void Coordinator::FailGangsWithDeadMembers(Change& change) {
  for (const std::string& job_id : change.AllIds()) {
    const v1::Job* job = change.Current(job_id);
    if (job->state() != v1::RUNNING) continue;
    if (reconciling_.count(job_id) > 0) continue;  // its ranks are coming back
    const std::string task = TaskId(job_id, job->attempts());
    const std::set<int>& done = completed_ranks_[job_id];
    for (int rank = 0; rank < job->workers_size(); ++rank) {
      if (done.count(rank) > 0) continue;
      const std::string& worker = job->workers(rank);
      const v1::Worker* w = registry_.Find(worker);
      std::string why;
      if (w == nullptr) {
        why = "is gone";
      } else if (w->state() == v1::LOST) {
        why = "lost";
      } else if (w->state() == v1::DRAINED) {
        FailAttempt(change, change.Stage(job_id), absl::StrCat("worker ", worker, " shut down"), "",
                    AttemptEnd::kInterrupted);
        break;
      } else if (registry_.TaskOf(worker) != task) {
        why = "no longer runs its task (it restarted, or its result was lost)";
      } else {
        continue;
      }
      FailAttempt(change, change.Stage(job_id), absl::StrCat("worker ", worker, " ", why), worker);
      break;
    }
  }
  ResolveDependents(change);
}

// NOTE [late checkpoints]
// An attempt ends when its first rank fails or shuts down; the gang's rank 0
// may still be writing the checkpoint of the step the gang agreed to stop
// at, and its report then arrives for an attempt that is over. While the job
// waits for its next attempt (QUEUED, and that attempt was its last), nothing
// else writes its checkpoints: a newer one from that attempt is recorded, so
// the restart resumes from it instead of redoing the steps since the one
// before. Reports of any other attempt change nothing (attempt fencing).
absl::Status Coordinator::RecordLateCheckpoint(const v1::Job* job, int attempt,
                                               const std::string& checkpoint) {
  if (job == nullptr || checkpoint.empty() || job->state() != v1::QUEUED ||
      job->attempts() != attempt || checkpoint == job->checkpoint()) {
    return absl::OkStatus();
  }
  auto step_of = [](const std::string& path, int64_t* step) {
    return model::ParseCheckpointFileName(path.substr(path.find_last_of('/') + 1), step);
  };
  int64_t late = 0;
  int64_t recorded = -1;
  if (!step_of(checkpoint, &late)) return absl::OkStatus();
  if (!job->checkpoint().empty() && step_of(job->checkpoint(), &recorded) && late <= recorded) {
    return absl::OkStatus();
  }
  Change change(this);
  v1::Job& staged = change.Stage(job->id());
  if (!job->checkpoint().empty()) {
    staged.set_reason(absl::StrReplaceAll(job->reason(), {{job->checkpoint(), checkpoint}}));
  } else {
    staged.set_reason(absl::StrReplaceAll(job->reason(),
                                          {{"restarting from scratch", "restarting from " + checkpoint}}));
  }
  staged.set_checkpoint(checkpoint);
  return change.Commit();
}

std::string Coordinator::DrainingMember(const v1::Job& job) const {
  for (const std::string& id : job.workers()) {
    const v1::Worker* w = registry_.Find(id);
    if (w != nullptr && w->draining()) return id;
  }
  return "";
}

void Coordinator::FailAttempt(Change& change, v1::Job& job, const std::string& reason,
                              const std::string& culprit, AttemptEnd end) {
  completed_ranks_.erase(job.id());
  job.clear_workers();
  if (end == AttemptEnd::kInterrupted) {
    // Nobody failed: the restart is not the job's to pay for.
    job.set_state(v1::QUEUED);
    job.set_reason(absl::StrCat("attempt ", job.attempts(), " stopped: ", reason, "; restarting ",
                                job.checkpoint().empty() ? "from scratch"
                                                         : "from " + job.checkpoint()));
    *job.mutable_queued_at() = ToProto(clock_->Now());
    return;
  }
  const bool permanent = end == AttemptEnd::kPermanent;
  const auto& avoided = job.avoided_workers();
  if (!culprit.empty() && std::find(avoided.begin(), avoided.end(), culprit) == avoided.end() &&
      avoided.size() < 16) {
    job.add_avoided_workers(culprit);
  }
  if (!permanent && job.restarts() < job.spec().max_restarts()) {
    job.set_restarts(job.restarts() + 1);
    job.set_state(v1::QUEUED);
    job.set_reason(absl::StrCat("attempt ", job.attempts(), " failed: ", reason, "; restarting ",
                                job.checkpoint().empty() ? "from scratch"
                                                         : "from " + job.checkpoint()));
    *job.mutable_queued_at() = ToProto(clock_->Now());
  } else {
    job.set_state(v1::FAILED);
    job.set_reason(job.restarts() > 0
                       ? absl::StrCat(reason, " (after ", job.restarts(), " of ",
                                      job.spec().max_restarts(), " restarts)")
                       : reason);
    *job.mutable_finished_at() = ToProto(clock_->Now());
  }
}

void Coordinator::ResolveDependents(Change& change) {
  bool progressed = true;
  while (progressed) {
    progressed = false;
    for (const std::string& id : change.AllIds()) {
      const v1::Job* job = change.Current(id);
      if (job->state() != v1::PENDING) continue;
      const v1::Job* dep = change.Current(job->parent_id());
      if (dep == nullptr || !IsFinal(dep->state())) continue;
      v1::Job& staged = change.Stage(id);
      if (dep->state() == v1::SUCCEEDED) {
        staged.set_state(v1::QUEUED);
        staged.clear_reason();
        *staged.mutable_queued_at() = ToProto(clock_->Now());
      } else {
        staged.set_state(v1::FAILED);
        staged.set_reason(absl::StrCat(DependencyWord(staged.spec()), " ", Describe(*dep), " ",
                                       v1::JobState_Name(dep->state()),
                                       dep->reason().empty() ? "" : ": " + dep->reason()));
        *staged.mutable_finished_at() = ToProto(clock_->Now());
      }
      progressed = true;
    }
  }
}

v1::TaskAssignment Coordinator::MakeAssignment(const v1::Job& job, int rank,
                                               const std::string& rendezvous) const {
  v1::TaskAssignment a;
  a.set_task_id(TaskId(job.id(), job.attempts()));
  a.set_job_id(job.id());
  a.set_attempt(job.attempts());
  *a.mutable_spec() = job.spec();
  a.set_rank(rank);
  a.set_world_size(job.spec().world_size());
  a.set_rendezvous_address(rendezvous);
  a.set_rendezvous_prefix(a.task_id());
  a.set_artifact_dir(job.artifact_dir());
  a.set_resume_checkpoint(job.checkpoint());
  a.set_collective_timeout_ms(absl::ToInt64Milliseconds(options_.collective_timeout));
  auto n = number_by_id_.find(job.parent_id());
  if (n != number_by_id_.end()) {
    const v1::Job& dep = jobs_.at(n->second);
    if (KindOf(job.spec()).dependency == Dependency::kTeacher) {
      a.set_teacher_checkpoint(dep.checkpoint());
      *a.mutable_teacher_model() = dep.spec().model();
    } else {
      a.set_parent_checkpoint(dep.checkpoint());
    }
  }
  return a;
}

absl::Status Coordinator::Schedule(Placement placement) {
  std::vector<const v1::Job*> queued;
  bool fits = false;
  for (const auto& [number, job] : jobs_) {
    if (job.state() != v1::QUEUED) continue;
    queued.push_back(&job);
    fits = fits || registry_.IdleCount(job.spec().device()) >= job.spec().world_size();
  }
  if (queued.empty()) return absl::OkStatus();
  // NOTE [scheduling cost] in scheduler.h. Every registration schedules too:
  // when no queued job fits in the idle workers of its kind nothing can
  // start, and the pass is left to the ticker (which keeps the waiting
  // reasons' counts current).
  if (!fits && placement == Placement::kIfAnyFits) return absl::OkStatus();
  FleetView fleet;
  fleet.idle_workers = [this](const std::string& device) { return registry_.IdleWorkers(device); };
  fleet.idle_count_by_device = registry_.IdleCountByDevice();
  fleet.live_count_by_device = registry_.LiveCountByDevice();
  SchedulingDecision decision = PlaceGangs(queued, fleet);

  Change change(this);
  for (const GangPlacement& p : decision.placements) {
    v1::Job& job = change.Stage(p.job_id);
    job.set_state(v1::RUNNING);
    job.set_attempts(job.attempts() + 1);
    job.clear_reason();
    for (const std::string& w : p.worker_ids) job.add_workers(w);
    if (!job.has_started_at()) *job.mutable_started_at() = ToProto(clock_->Now());
  }
  RETURN_IF_ERROR(change.Commit());
  for (const GangPlacement& p : decision.placements) {
    const v1::Job& job = *LookupById(p.job_id);
    completed_ranks_.erase(job.id());
    const std::string rendezvous = registry_.Find(p.worker_ids[0])->collective_address();
    for (size_t rank = 0; rank < p.worker_ids.size(); ++rank) {
      registry_.Assign(p.worker_ids[rank], MakeAssignment(job, static_cast<int>(rank), rendezvous));
    }
  }
  // Why the others wait is shown to users but need not be durable.
  for (const Waiting& w : decision.waiting) {
    v1::Job* job = LookupById(w.job_id);
    if (job->reason() != w.reason && job->reason().rfind("attempt ", 0) != 0) {
      job->set_reason(w.reason);
      ++versions_[w.job_id];
    }
  }
  return absl::OkStatus();
}

}  // namespace simclr::coordinator
