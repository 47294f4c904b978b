#include "client/output.h"

#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
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

TEST(OutputTest, JsonOfAJobIsProtobufsJsonMappingWithProtoNames) {
  const v1::Job job = FullJob();
  const std::string json = FormatJob(job, OutputFormat::kJson, absl::UnixEpoch());
  // Reads back as the same message: nothing lost, nothing renamed.
  v1::Job parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok()) << json;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, job));
  // Proto field names, 64-bit integers as strings, zero scalars printed,
  // timestamps in RFC 3339.
  EXPECT_THAT(json, HasSubstr("\"total_steps\": \"8\""));
  EXPECT_THAT(json, HasSubstr("\"step\": \"4\""));
  EXPECT_THAT(json, HasSubstr("\"reason\": \"\""));
  EXPECT_THAT(json, HasSubstr("\"started_at\": \"2026-01-01T00:00:02.500Z\""));
  EXPECT_THAT(json, HasSubstr("\"width_multiplier\": 0.25"));
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.back(), '\n');
}

TEST(OutputTest, YamlOfAJobIsTheJsonDocumentWithTypesKept) {
  const v1::Job job = FullJob();
  const std::string yaml = FormatJob(job, OutputFormat::kYaml, absl::UnixEpoch());
  const YAML::Node doc = YAML::Load(yaml);
  EXPECT_EQ(doc["state"].Scalar(), "RUNNING");
  EXPECT_EQ(doc["spec"]["model"]["width_multiplier"].as<double>(), 0.25);
  EXPECT_EQ(doc["workers"][1].Scalar(), "w-b");
  // Strings that would read back as another type stay quoted.
  EXPECT_THAT(yaml, HasSubstr("\nreason: \"\"\n"));
  EXPECT_THAT(yaml, HasSubstr("  step: \"4\"\n"));
  EXPECT_THAT(yaml, HasSubstr("\navoided_workers: []\n"));
}

TEST(OutputTest, JobsPageIsTheListResponse) {
  v1::ListJobsResponse page;
  *page.add_jobs() = FullJob();
  page.set_next_page_token("7");
  const std::string json = FormatJobs(page, OutputFormat::kJson, absl::UnixEpoch());
  v1::ListJobsResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok()) << json;
  EXPECT_EQ(parsed.jobs_size(), 1);
  EXPECT_EQ(parsed.next_page_token(), "7");
  EXPECT_EQ(FormatJobs(page, OutputFormat::kName, absl::UnixEpoch()), "fmnist-pretrain\n");
}

TEST(OutputTest, TableShowsWhyAJobWaitsAndCutsLongReasons) {
  v1::Job queued;
  queued.set_id("j-000002");
  queued.mutable_spec()->set_name("fmnist-finetune-1pct");
  queued.mutable_spec()->set_kind("finetune");
  queued.set_state(v1::QUEUED);
  queued.set_reason("waiting for 4 cpu workers; 2 registered");
  queued.mutable_created_at()->set_seconds(kCreated - 3 * 3600);
  const absl::Time now = absl::FromUnixSeconds(kCreated + 90);
  EXPECT_EQ(FormatJobTable({FullJob(), queued}, /*wide=*/false, now),
            "ID         NAME                   KIND       STATE     PROGRESS    AGE   REASON\n"
            "j-000001   fmnist-pretrain        pretrain   RUNNING   4/8 (50%)   90s   -\n"
            "j-000002   fmnist-finetune-1pct   finetune   QUEUED    -           3h    "
            "waiting for 4 cpu workers; 2 registered\n");
  queued.set_reason(std::string(100, 'x'));
  const std::string narrow = FormatJobTable({queued}, /*wide=*/false, now);
  EXPECT_THAT(narrow, HasSubstr(std::string(57, 'x') + "...\n"));
  EXPECT_THAT(FormatJobTable({queued}, /*wide=*/true, now), HasSubstr(std::string(100, 'x')));
}

TEST(OutputTest, WideTableAddsGangAttemptsParentAccuracyAndLabels) {
  v1::Job job = FullJob();
  (*job.mutable_metrics())["top1"] = 0.75;
  job.set_parent_id("j-000000");
  (*job.mutable_spec()->mutable_labels())["team"] = "vision";
  (*job.mutable_spec()->mutable_labels())["exp"] = "a1";
  const std::string table = FormatJobTable({job}, /*wide=*/true, absl::FromUnixSeconds(kCreated));
  EXPECT_THAT(table, HasSubstr("WORLD   WORKERS   ATTEMPTS   PARENT     TOP1     LABELS"));
  EXPECT_THAT(table, HasSubstr("2       w-a,w-b   1          j-000000   0.7500   exp=a1,team=vision"));
}

TEST(OutputTest, WorkersInEveryFormat) {
  v1::Worker idle;
  idle.set_id("w-b");
  idle.set_device_kind("cpu");
  idle.set_state(v1::IDLE);
  idle.set_consecutive_failures(3);
  idle.set_unhealthy(true);
  v1::ListWorkersResponse workers;
  *workers.add_workers() = BusyWorker();
  *workers.add_workers() = idle;
  const absl::Time now = absl::FromUnixSeconds(kCreated + 33);
  EXPECT_EQ(FormatWorkers(workers, OutputFormat::kTable, now),
            "ID    DEVICE   STATE                          JOB        RANK   LAST HEARTBEAT\n"
            "w-a   cuda     BUSY                           j-000001   1      3s ago\n"
            "w-b   cpu      IDLE, unhealthy (3 failures)   -          -      -\n");
  EXPECT_THAT(FormatWorkers(workers, OutputFormat::kWide, now),
              HasSubstr("HOST     ADDRESS\n"));
  const std::string json = FormatWorkers(workers, OutputFormat::kJson, now);
  EXPECT_THAT(json, HasSubstr("\"memory_bytes\": \"85899345920\","));
  EXPECT_THAT(json, HasSubstr("\"last_heartbeat\": \"2026-01-01T00:00:30Z\""));
  EXPECT_THAT(FormatWorkers(workers, OutputFormat::kYaml, now),
              HasSubstr("workers:\n  - id: w-a\n    hostname: node-1\n"));
}

TEST(OutputTest, MetricsTableHasAColumnPerValue) {
  v1::JobMetrics metrics;
  for (int step : {1, 2}) {
    v1::StepMetrics* point = metrics.add_steps();
    point->set_step(step);
    point->set_epoch(step * 0.5);
    (*point->mutable_values())["loss"] = 5.0 / step;
    if (step == 2) (*point->mutable_values())["lr"] = 0.1;
  }
  EXPECT_EQ(FormatJobMetrics(metrics, OutputFormat::kTable),
            "STEP   EPOCH   LOSS   LR\n"
            "1      0.500   5      -\n"
            "2      1.000   2.5    0.1\n");
  EXPECT_EQ(FormatJobMetrics(metrics, OutputFormat::kName), "loss\nlr\n");
}

TEST(OutputTest, ParsersNameTheChoices) {
  EXPECT_EQ(*ParseOutputFormat("wide"), OutputFormat::kWide);
  auto bad = ParseOutputFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "-o: unknown output format \"xml\"; expected table, wide, json, yaml, name");
  EXPECT_EQ(*ParseJobState("running"), v1::RUNNING);
  EXPECT_EQ(*ParseJobState("QUEUED"), v1::QUEUED);
  auto state = ParseJobState("done");
  ASSERT_FALSE(state.ok());
  EXPECT_THAT(std::string(state.status().message()),
              HasSubstr("expected a comma-separated list of pending, queued, running, succeeded"));
  EXPECT_FALSE(ParseJobState("job_state_unspecified").ok());
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
