// A JobStore in memory, for tests: it can be told to fail the next writes.
#ifndef SIMCLR_COORDINATOR_TESTING_IN_MEMORY_JOB_STORE_H_
#define SIMCLR_COORDINATOR_TESTING_IN_MEMORY_JOB_STORE_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "coordinator/job_store.h"

namespace simclr::coordinator {

// Thread-safe.
class InMemoryJobStore final : public JobStore {
 public:
  absl::StatusOr<std::vector<v1::Job>> LoadAll() override {
    absl::MutexLock lock(&mu_);
    std::vector<v1::Job> jobs;
    for (const auto& [seq, job] : jobs_) jobs.push_back(job);
    return jobs;
  }

  using JobStore::Put;
  absl::Status Put(const std::vector<v1::Job>& jobs,
                   const std::vector<v1::JobEvent>& events) override {
    std::function<void()> hook;
    {
      absl::MutexLock lock(&mu_);
      hook = put_hook_;
    }
    if (hook) hook();
    absl::MutexLock lock(&mu_);
    ++puts_;
    if (fail_writes_) return absl::UnavailableError("injected store failure");
    for (const v1::Job& job : jobs) jobs_[Seq(job.id())] = job;
    for (const v1::JobEvent& event : events) events_[event.job_id()].push_back(event);
    return absl::OkStatus();
  }

  absl::Status Delete(const std::vector<std::string>& ids) override {
    absl::MutexLock lock(&mu_);
    if (fail_writes_) return absl::UnavailableError("injected store failure");
    for (const std::string& id : ids) {
      jobs_.erase(Seq(id));
      events_.erase(id);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<v1::JobEvent>> LoadEvents(const std::string& id) override {
    absl::MutexLock lock(&mu_);
    auto it = events_.find(id);
    return it == events_.end() ? std::vector<v1::JobEvent>{} : it->second;
  }

  // Runs at the start of every Put, outside the store's lock: a test can
  // make a commit take as long as a slow disk would.
  void set_put_hook(std::function<void()> hook) {
    absl::MutexLock lock(&mu_);
    put_hook_ = std::move(hook);
  }

  void set_fail_writes(bool fail) {
    absl::MutexLock lock(&mu_);
    fail_writes_ = fail;
  }

  int puts() {
    absl::MutexLock lock(&mu_);
    return puts_;
  }

 private:
  static long Seq(const std::string& id) { return std::stol(id.substr(2)); }

  absl::Mutex mu_;
  std::map<long, v1::Job> jobs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<v1::JobEvent>> events_ ABSL_GUARDED_BY(mu_);
  bool fail_writes_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> put_hook_ ABSL_GUARDED_BY(mu_);
  int puts_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_TESTING_IN_MEMORY_JOB_STORE_H_
