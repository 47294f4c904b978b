// JobStore on SQLite: one file in the state directory, WAL journal,
// synchronous=FULL, versioned schema.
#ifndef SIMCLR_COORDINATOR_SQLITE_JOB_STORE_H_
#define SIMCLR_COORDINATOR_SQLITE_JOB_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "coordinator/job_store.h"

struct sqlite3;

namespace simclr::coordinator {

// Thread-safe (one connection, serialised by a mutex).
//
//   ASSIGN_OR_RETURN(auto store, SqliteJobStore::Open("/var/lib/simclr/jobs.db"));
//   RETURN_IF_ERROR(store->Put({job}));
//
// Schema (PRAGMA user_version), each version one migration step from the one
// before, applied in one transaction when an older file is opened:
//   1: jobs(id TEXT PRIMARY KEY, seq INTEGER, name TEXT, state INTEGER,
//      job BLOB), `job` the serialized simclr.v1.Job;
//   2: + events(seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT,
//      event BLOB), `event` a serialized simclr.v1.JobEvent.
// A file written by a newer schema is refused rather than misread.
class SqliteJobStore final : public JobStore {
 public:
  static constexpr int kSchemaVersion = 2;

  // Opens or creates the database at `path`. Errors name the file.
  static absl::StatusOr<std::unique_ptr<SqliteJobStore>> Open(const std::string& path);

  ~SqliteJobStore() override;
  SqliteJobStore(const SqliteJobStore&) = delete;
  SqliteJobStore& operator=(const SqliteJobStore&) = delete;

  absl::StatusOr<std::vector<v1::Job>> LoadAll() override;
  using JobStore::Put;
  absl::Status Put(const std::vector<v1::Job>& jobs,
                   const std::vector<v1::JobEvent>& events) override;
  absl::Status Delete(const std::vector<std::string>& ids) override;
  absl::StatusOr<std::vector<v1::JobEvent>> LoadEvents(const std::string& id) override;

 private:
  SqliteJobStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Error(const std::string& what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Migrate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);  // owned
};

}  // namespace simclr::coordinator

#endif  // SIMCLR_COORDINATOR_SQLITE_JOB_STORE_H_
