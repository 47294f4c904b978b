#include "coordinator/sqlite_job_store.h"

#include <sqlite3.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace simclr::coordinator {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

v1::Job MakeJob(const std::string& id, const std::string& name, v1::JobState state) {
  v1::Job job;
  job.set_id(id);
  job.mutable_spec()->set_name(name);
  job.set_state(state);
  return job;
}

TEST(SqliteJobStoreTest, JobsSurviveReopeningInSubmissionOrder) {
  const std::string path = TempPath("reopen.db");
  {
    auto store = SqliteJobStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Put({MakeJob("j-10", "b", v1::QUEUED), MakeJob("j-9", "a", v1::RUNNING)}).ok());
    v1::Job updated = MakeJob("j-9", "a", v1::SUCCEEDED);
    (*updated.mutable_metrics())["top1"] = 0.75;
    ASSERT_TRUE((*store)->Put({updated}).ok());
  }
  auto store = SqliteJobStore::Open(path);
  ASSERT_TRUE(store.ok());
  auto jobs = (*store)->LoadAll();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].id(), "j-9");  // numeric, not lexical, order
  EXPECT_EQ((*jobs)[0].state(), v1::SUCCEEDED);
  EXPECT_DOUBLE_EQ((*jobs)[0].metrics().at("top1"), 0.75);
  EXPECT_EQ((*jobs)[1].id(), "j-10");
}

TEST(SqliteJobStoreTest, DeleteRemovesJobsAndTheirEventsDurably) {
  const std::string path = TempPath("delete.db");
  std::remove(path.c_str());
  {
    auto store = SqliteJobStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    v1::JobEvent event;
    event.set_job_id("j-1");
    event.set_to_state(v1::QUEUED);
    ASSERT_TRUE((*store)->Put({MakeJob("j-1", "a", v1::SUCCEEDED), MakeJob("j-2", "b", v1::QUEUED)},
                              {event})
                    .ok());
    ASSERT_TRUE((*store)->Delete({"j-1", "j-404"}).ok());
  }
  auto store = SqliteJobStore::Open(path);
  ASSERT_TRUE(store.ok());
  auto jobs = (*store)->LoadAll();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].id(), "j-2");
  EXPECT_TRUE((*store)->LoadEvents("j-1")->empty());
}

TEST(SqliteJobStoreTest, RefusesANewerSchema) {
  const std::string path = TempPath("newer.db");
  {
    auto store = SqliteJobStore::Open(path);
    ASSERT_TRUE(store.ok());
  }
  ASSERT_EQ(std::system(("sqlite3 " + path + " 'PRAGMA user_version = 99' 2>/dev/null || "
                         "/usr/bin/python3 -c \"import sqlite3;c=sqlite3.connect('" + path +
                         "');c.execute('PRAGMA user_version = 99');c.commit()\"")
                            .c_str()),
            0);
  auto store = SqliteJobStore::Open(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("schema version 99"), std::string::npos);
}

// A state directory written by the coordinator before job events (schema 1,
// created here with that version's statements) opens in this one: every job
// is kept, the file is migrated to the current schema, and events work.
TEST(SqliteJobStoreTest, MigratesAStoreOfTheFirstSchemaKeepingEveryJob) {
  const std::string path = TempPath("schema1.db");
  std::remove(path.c_str());
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE jobs (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
                           " name TEXT NOT NULL, state INTEGER NOT NULL, job BLOB NOT NULL);"
                           "CREATE INDEX jobs_by_name ON jobs(name);"
                           "PRAGMA user_version = 1;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    for (const v1::Job& job : {MakeJob("j-1", "pre", v1::SUCCEEDED),
                               MakeJob("j-2", "ft", v1::RUNNING)}) {
      const std::string bytes = job.SerializeAsString();
      sqlite3_stmt* insert = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO jobs VALUES (?1, ?2, ?3, ?4, ?5)", -1,
                                   &insert, nullptr),
                SQLITE_OK);
      sqlite3_bind_text(insert, 1, job.id().c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(insert, 2, job.id() == "j-1" ? 1 : 2);
      sqlite3_bind_text(insert, 3, job.spec().name().c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int(insert, 4, job.state());
      sqlite3_bind_blob(insert, 5, bytes.data(), static_cast<int>(bytes.size()),
                        SQLITE_TRANSIENT);
      EXPECT_EQ(sqlite3_step(insert), SQLITE_DONE);
      sqlite3_finalize(insert);
    }
    sqlite3_close(db);
  }
  auto store = SqliteJobStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  auto jobs = (*store)->LoadAll();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].spec().name(), "pre");
  EXPECT_EQ((*jobs)[1].state(), v1::RUNNING);

  v1::JobEvent event;
  event.set_job_id("j-2");
  event.set_from_state(v1::RUNNING);
  event.set_to_state(v1::QUEUED);
  event.set_message("attempt 1 failed");
  ASSERT_TRUE((*store)->Put({MakeJob("j-2", "ft", v1::QUEUED)}, {event}).ok());
  store->reset();
  auto reopened = SqliteJobStore::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto events = (*reopened)->LoadEvents("j-2");
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].message(), "attempt 1 failed");
  EXPECT_TRUE((*reopened)->LoadEvents("j-1")->empty());
}

TEST(SqliteJobStoreTest, OpenErrorNamesTheFile) {
  auto store = SqliteJobStore::Open("/nonexistent-dir/jobs.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("/nonexistent-dir/jobs.db"), std::string::npos);
}

}  // namespace
}  // namespace simclr::coordinator
