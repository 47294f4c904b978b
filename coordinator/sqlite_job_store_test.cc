#include "coordinator/sqlite_job_store.h"

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

TEST(SqliteJobStoreTest, OpenErrorNamesTheFile) {
  auto store = SqliteJobStore::Open("/nonexistent-dir/jobs.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("/nonexistent-dir/jobs.db"), std::string::npos);
}

}  // namespace
}  // namespace simclr::coordinator
