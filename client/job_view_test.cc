#include "client/job_view.h"

#include <string>

#include "absl/time/time.h"
#include "client/view.h"
#include "client/yaml_json.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace simclr::client {
namespace {

using ::testing::HasSubstr;

// 2026-01-01T00:00:00Z
constexpr int64_t kCreated = 1767225600;

v1::Job FullJob() {
  v1::Job job;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        id: "j-000001"
        spec {
          name: "fmnist-pretrain"
          kind: "pretrain"
          world_size: 2
          priority: 5
          model { depth: 18 width_multiplier: 0.25 sk_ratio: 0 }
          optimizer { name: "lars" weight_decay: 1e-6 }
          train { batch_size: 128 seed: 7 }
        }
        state: RUNNING
        attempts: 1
        workers: [ "w-a", "w-b" ]
        progress { step: 4 total_steps: 8 epoch: 0.5 }
        metrics { key: "loss" value: 4.25 }
        metrics { key: "lr" value: 0.15 }
        metrics { key: "images_per_second" value: 512 }
        created_at { seconds: 1767225600 }
        queued_at { seconds: 1767225601 }
        started_at { seconds: 1767225602 nanos: 500000000 }
        artifact_dir: "/var/lib/simclr/jobs/j-000001"
        checkpoint: "/var/lib/simclr/jobs/j-000001/step-4"
      )pb",
      &job));
  return job;
}

v1::Worker BusyWorker() {
  v1::Worker worker;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        id: "w-a"
        hostname: "node-1"
        device_kind: "cuda"
        device_count: 1
        memory_bytes: 85899345920
        collective_address: "node-1:29500"
        state: BUSY
        job_id: "j-000001"
        rank: 1
        registered_at { seconds: 1767225500 }
        last_heartbeat { seconds: 1767225630 }
      )pb",
      &worker));
  return worker;
}

TEST(JobViewTest, JsonOfAJobHasEveryFieldOfTheContract) {
  EXPECT_EQ(FormatJob(FullJob(), OutputFormat::kJson, absl::UnixEpoch()),
            R"({
  "id": "j-000001",
  "name": "fmnist-pretrain",
  "kind": "pretrain",
  "state": "RUNNING",
  "reason": "",
  "attempts": 1,
  "restarts": 0,
  "world_size": 2,
  "workers": [
    "w-a",
    "w-b"
  ],
  "avoided_workers": [],
  "progress": {
    "step": 4,
    "total_steps": 8,
    "epoch": 0.5
  },
  "metrics": {
    "images_per_second": 512,
    "loss": 4.25,
    "lr": 0.15
  },
  "priority": 5,
  "parent": "",
  "teacher": "",
  "parent_id": "",
  "created_at": "2026-01-01T00:00:00Z",
  "queued_at": "2026-01-01T00:00:01Z",
  "started_at": "2026-01-01T00:00:02.5Z",
  "finished_at": null,
  "artifact_dir": "/var/lib/simclr/jobs/j-000001",
  "submitted_by": "",
  "checkpoint": "/var/lib/simclr/jobs/j-000001/step-4",
  "spec": {
    "name": "fmnist-pretrain",
    "kind": "pretrain",
    "world_size": 2,
    "priority": 5,
    "model": {
      "depth": 18,
      "width_multiplier": 0.25,
      "sk_ratio": 0
    },
    "optimizer": {
      "name": "lars",
      "weight_decay": 1e-06
    },
    "train": {
      "batch_size": 128,
      "seed": 7
    }
  }
}
)");
}

TEST(JobViewTest, YamlOfAJobCarriesTheSameDataAsJson) {
  const v1::Job job = FullJob();
  const std::string yaml =
      FormatJob(job, OutputFormat::kYaml, absl::UnixEpoch());
  auto json = YamlToJson(YAML::Load(yaml));
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, FormatJson(JobView(job), /*pretty=*/false));
  EXPECT_THAT(yaml, HasSubstr("\nstate: RUNNING\n"));
  EXPECT_THAT(yaml, HasSubstr("\nreason: \"\"\n"));
  EXPECT_THAT(yaml, HasSubstr("\nfinished_at: ~\n"));
}

TEST(JobViewTest, JobsListIsAJsonArray) {
  v1::Job other = FullJob();
  other.set_id("j-000002");
  std::string json =
      FormatJobs({FullJob(), other}, OutputFormat::kJson, absl::UnixEpoch());
  ASSERT_FALSE(json.empty());
  EXPECT_EQ(json.front(), '[');
  EXPECT_EQ(json.substr(json.size() - 2), "]\n");
  auto parsed = YamlToJson(YAML::Load(json));  // JSON is YAML
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(YAML::Load(json).size(), 2u);
  EXPECT_EQ(FormatJobs({}, OutputFormat::kJson, absl::UnixEpoch()), "[]\n");
}

TEST(JobViewTest, TableAlignsColumnsAndShowsProgressAndAge) {
  v1::Job queued;
  queued.set_id("j-000002");
  queued.mutable_spec()->set_name("fmnist-finetune-1pct");
  queued.mutable_spec()->set_kind("finetune");
  queued.set_state(v1::QUEUED);
  queued.mutable_created_at()->set_seconds(kCreated - 3 * 3600);
  const absl::Time now = absl::FromUnixSeconds(kCreated + 90);
  EXPECT_EQ(FormatJobs({FullJob(), queued}, OutputFormat::kTable, now),
            "ID         NAME                   KIND       STATE     "
            "PROGRESS    AGE\n"
            "j-000001   fmnist-pretrain        pretrain   RUNNING   "
            "4/8 (50%)   90s\n"
            "j-000002   fmnist-finetune-1pct   finetune   QUEUED    "
            "-           3h\n");
}

TEST(JobViewTest, WorkerViewsInEveryFormat) {
  v1::Worker idle;
  idle.set_id("w-b");
  idle.set_device_kind("cpu");
  idle.set_state(v1::IDLE);
  idle.set_consecutive_failures(3);
  idle.set_unhealthy(true);
  const absl::Time now = absl::FromUnixSeconds(kCreated + 33);
  EXPECT_EQ(FormatWorkers({BusyWorker(), idle}, OutputFormat::kTable, now),
            "ID    DEVICE   STATE                          JOB        RANK   LAST HEARTBEAT\n"
            "w-a   cuda     BUSY                           j-000001   1      3s ago\n"
            "w-b   cpu      IDLE, unhealthy (3 failures)   -          -      -\n");
  std::string json = FormatWorkers({BusyWorker()}, OutputFormat::kJson, now);
  EXPECT_THAT(json, HasSubstr("\"memory_bytes\": 85899345920,"));
  EXPECT_THAT(json, HasSubstr("\"last_heartbeat\": \"2026-01-01T00:00:30Z\""));
  EXPECT_THAT(json, HasSubstr("\"rank\": 1,"));
  std::string yaml = FormatWorkers({BusyWorker()}, OutputFormat::kYaml, now);
  EXPECT_THAT(yaml, HasSubstr("- id: w-a\n  hostname: node-1\n"));
}

TEST(JobViewTest, ParseOutputFormatNamesTheChoices) {
  EXPECT_EQ(*ParseOutputFormat("yaml"), OutputFormat::kYaml);
  auto bad = ParseOutputFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "-o: unknown output format \"xml\"; expected table, json or yaml");
}

TEST(FormatAgeTest, UsesTheLargestReadableUnit) {
  EXPECT_EQ(FormatAge(absl::Seconds(45)), "45s");
  EXPECT_EQ(FormatAge(absl::Minutes(12)), "12m");
  EXPECT_EQ(FormatAge(absl::Hours(5)), "5h");
  EXPECT_EQ(FormatAge(absl::Hours(72)), "3d");
  EXPECT_EQ(FormatAge(absl::Seconds(-1)), "-");
}

}  // namespace
}  // namespace simclr::client
