#include "coordinator/sqlite_job_store.h"

#include <sqlite3.h>

#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace simclr::coordinator {
namespace {

// Ids are "j-<n>"; `seq` keeps them in submission order.
int64_t SequenceOf(const std::string& id) {
  int64_t seq = 0;
  if (id.size() > 2 && absl::SimpleAtoi(id.substr(2), &seq)) return seq;
  return 0;
}

// Finalises a statement on every path out of a scope.
class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt** out() { return &stmt_; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteJobStore>> SqliteJobStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat("cannot open job store ", path, ": ", message));
  }
  std::unique_ptr<SqliteJobStore> store(new SqliteJobStore(path, db));
  absl::MutexLock lock(&store->mu_);
  sqlite3_busy_timeout(db, 5000);
  RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  // FULL: a transition acknowledged to a client survives power loss too.
  RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL"));
  RETURN_IF_ERROR(store->Migrate());
  return store;
}

SqliteJobStore::~SqliteJobStore() {
  absl::MutexLock lock(&mu_);
  sqlite3_close(db_);
}

absl::Status SqliteJobStore::Error(const std::string& what) {
  return absl::InternalError(
      absl::StrCat("job store ", path_, ": ", what, ": ", sqlite3_errmsg(db_)));
}

absl::Status SqliteJobStore::Exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return absl::InternalError(absl::StrCat("job store ", path_, ": ", sql, ": ", text));
  }
  return absl::OkStatus();
}

absl::Status SqliteJobStore::Migrate() {
  Statement version;
  if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, version.out(), nullptr) != SQLITE_OK ||
      sqlite3_step(version.get()) != SQLITE_ROW) {
    return Error("reading the schema version");
  }
  const int found = sqlite3_column_int(version.get(), 0);
  if (found > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("job store ", path_, " has schema version ", found,
                     ", newer than this coordinator understands (", kSchemaVersion, ")"));
  }
  if (found == kSchemaVersion) return absl::OkStatus();
  // kMigrations[v] takes a file from version v to v + 1.
  static const char* const kMigrations[kSchemaVersion] = {
      // 0 -> 1: a fresh file.
      "CREATE TABLE IF NOT EXISTS jobs ("
      "  id TEXT PRIMARY KEY,"
      "  seq INTEGER NOT NULL,"
      "  name TEXT NOT NULL,"
      "  state INTEGER NOT NULL,"
      "  job BLOB NOT NULL);"
      "CREATE INDEX IF NOT EXISTS jobs_by_name ON jobs(name);",
      // 1 -> 2: job events.
      "CREATE TABLE IF NOT EXISTS events ("
      "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  job_id TEXT NOT NULL,"
      "  event BLOB NOT NULL);"
      "CREATE INDEX IF NOT EXISTS events_by_job ON events(job_id, seq);",
  };
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  absl::Status s;
  for (int v = found; v < kSchemaVersion && s.ok(); ++v) s = Exec(kMigrations[v]);
  if (s.ok()) s = Exec(absl::StrCat("PRAGMA user_version = ", kSchemaVersion).c_str());
  if (!s.ok()) {
    Exec("ROLLBACK").IgnoreError();
    return s;
  }
  return Exec("COMMIT");
}

absl::StatusOr<std::vector<v1::Job>> SqliteJobStore::LoadAll() {
  absl::MutexLock lock(&mu_);
  Statement select;
  if (sqlite3_prepare_v2(db_, "SELECT id, job FROM jobs ORDER BY seq", -1, select.out(),
                         nullptr) != SQLITE_OK) {
    return Error("preparing the job scan");
  }
  std::vector<v1::Job> jobs;
  int rc;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    const auto* id = reinterpret_cast<const char*>(sqlite3_column_text(select.get(), 0));
    const void* blob = sqlite3_column_blob(select.get(), 1);
    const int size = sqlite3_column_bytes(select.get(), 1);
    v1::Job job;
    if (!job.ParseFromArray(blob, size)) {
      return absl::DataLossError(
          absl::StrCat("job store ", path_, ": job ", id ? id : "?", " is not a valid record"));
    }
    jobs.push_back(std::move(job));
  }
  if (rc != SQLITE_DONE) return Error("scanning jobs");
  return jobs;
}

absl::StatusOr<std::vector<v1::JobEvent>> SqliteJobStore::LoadEvents(const std::string& id) {
  absl::MutexLock lock(&mu_);
  Statement select;
  if (sqlite3_prepare_v2(db_, "SELECT event FROM events WHERE job_id = ?1 ORDER BY seq", -1,
                         select.out(), nullptr) != SQLITE_OK) {
    return Error("preparing the event scan");
  }
  sqlite3_bind_text(select.get(), 1, id.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<v1::JobEvent> events;
  int rc;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    v1::JobEvent event;
    if (!event.ParseFromArray(sqlite3_column_blob(select.get(), 0),
                              sqlite3_column_bytes(select.get(), 0))) {
      return absl::DataLossError(
          absl::StrCat("job store ", path_, ": an event of job ", id, " is not a valid record"));
    }
    events.push_back(std::move(event));
  }
  if (rc != SQLITE_DONE) return Error(absl::StrCat("scanning the events of job ", id));
  return events;
}

absl::Status SqliteJobStore::Put(const std::vector<v1::Job>& jobs,
                                 const std::vector<v1::JobEvent>& events) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  absl::Status status = [&]() -> absl::Status {
    Statement upsert;
    if (sqlite3_prepare_v2(db_,
                           "INSERT OR REPLACE INTO jobs (id, seq, name, state, job) "
                           "VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, upsert.out(), nullptr) != SQLITE_OK) {
      return Error("preparing the job write");
    }
    for (const v1::Job& job : jobs) {
      const std::string bytes = job.SerializeAsString();
      sqlite3_reset(upsert.get());
      sqlite3_bind_text(upsert.get(), 1, job.id().c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(upsert.get(), 2, SequenceOf(job.id()));
      sqlite3_bind_text(upsert.get(), 3, job.spec().name().c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int(upsert.get(), 4, job.state());
      sqlite3_bind_blob(upsert.get(), 5, bytes.data(), static_cast<int>(bytes.size()),
                        SQLITE_TRANSIENT);
      if (sqlite3_step(upsert.get()) != SQLITE_DONE) {
        return Error(absl::StrCat("writing job ", job.id()));
      }
    }
    if (events.empty()) return absl::OkStatus();
    Statement append;
    if (sqlite3_prepare_v2(db_, "INSERT INTO events (job_id, event) VALUES (?1, ?2)", -1,
                           append.out(), nullptr) != SQLITE_OK) {
      return Error("preparing the event write");
    }
    for (const v1::JobEvent& event : events) {
      const std::string bytes = event.SerializeAsString();
      sqlite3_reset(append.get());
      sqlite3_bind_text(append.get(), 1, event.job_id().c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_blob(append.get(), 2, bytes.data(), static_cast<int>(bytes.size()),
                        SQLITE_TRANSIENT);
      if (sqlite3_step(append.get()) != SQLITE_DONE) {
        return Error(absl::StrCat("writing an event of job ", event.job_id()));
      }
    }
    return absl::OkStatus();
  }();
  if (status.ok()) status = Exec("COMMIT");
  // A failed COMMIT can leave the transaction open; every later BEGIN would
  // then fail too.
  if (!status.ok() && !sqlite3_get_autocommit(db_)) Exec("ROLLBACK").IgnoreError();
  if (!status.ok()) {
    // The caller may retry (disk full, busy): nothing was stored.
    return absl::UnavailableError(status.message());
  }
  return absl::OkStatus();
}

absl::Status SqliteJobStore::Delete(const std::vector<std::string>& ids) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  absl::Status status = [&]() -> absl::Status {
    for (const char* sql : {"DELETE FROM jobs WHERE id = ?1", "DELETE FROM events WHERE job_id = ?1"}) {
      Statement remove;
      if (sqlite3_prepare_v2(db_, sql, -1, remove.out(), nullptr) != SQLITE_OK) {
        return Error("preparing a deletion");
      }
      for (const std::string& id : ids) {
        sqlite3_reset(remove.get());
        sqlite3_bind_text(remove.get(), 1, id.c_str(), -1, SQLITE_TRANSIENT);
        if (sqlite3_step(remove.get()) != SQLITE_DONE) {
          return Error(absl::StrCat("deleting job ", id));
        }
      }
    }
    return absl::OkStatus();
  }();
  if (status.ok()) status = Exec("COMMIT");
  if (!status.ok() && !sqlite3_get_autocommit(db_)) Exec("ROLLBACK").IgnoreError();
  if (!status.ok()) return absl::UnavailableError(status.message());
  return absl::OkStatus();
}

}  // namespace simclr::coordinator
