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
  // Version 0 -> 1: a fresh file.
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  absl::Status s = Exec(
      "CREATE TABLE IF NOT EXISTS jobs ("
      "  id TEXT PRIMARY KEY,"
      "  seq INTEGER NOT NULL,"
      "  name TEXT NOT NULL,"
      "  state INTEGER NOT NULL,"
      "  job BLOB NOT NULL)");
  if (s.ok()) s = Exec("CREATE INDEX IF NOT EXISTS jobs_by_name ON jobs(name)");
  if (s.ok()) s = Exec("PRAGMA user_version = 1");
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

absl::Status SqliteJobStore::Put(const std::vector<v1::Job>& jobs) {
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

}  // namespace simclr::coordinator
