#include "client/command_line.h"

#include <stdlib.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simclr::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<Invocation> Parse(std::vector<std::string> args) {
  return ParseCommandLine(args);
}

std::string ErrorOf(std::vector<std::string> args) {
  absl::StatusOr<Invocation> inv = Parse(args);
  EXPECT_FALSE(inv.ok()) << "parsed";
  return inv.ok() ? "" : std::string(inv.status().message());
}

class ParseCommandLineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("SIMCLR_COORDINATOR");
    unsetenv("SIMCLR_TOKEN_FILE");
  }
  void TearDown() override { SetUp(); }
};

TEST_F(ParseCommandLineTest, ConnectionFlagsBeforeOrAfterTheVerb) {
  EXPECT_EQ(Parse({"get", "jobs"})->connection.coordinator, "");
  EXPECT_EQ(Parse({"--coordinator=a:1", "get", "jobs"})->connection.coordinator, "a:1");
  EXPECT_EQ(Parse({"get", "jobs", "--coordinator", "b:2"})->connection.coordinator, "b:2");
  auto all = Parse({"--context=prod", "--token-file=t", "--ca=c.pem", "--cert=u.pem",
                    "--key=u.key", "get", "jobs"});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->context, "prod");
  EXPECT_EQ(all->connection.token_file, "t");
  EXPECT_EQ(all->connection.ca, "c.pem");
  EXPECT_EQ(all->connection.cert, "u.pem");
  EXPECT_EQ(all->connection.key, "u.key");
}

TEST_F(ParseCommandLineTest, EnvironmentFillsWhatNoFlagGives) {
  setenv("SIMCLR_COORDINATOR", "env:7", 1);
  setenv("SIMCLR_TOKEN_FILE", "env.token", 1);
  EXPECT_EQ(Parse({"get", "jobs"})->connection.coordinator, "env:7");
  EXPECT_EQ(Parse({"get", "jobs"})->connection.token_file, "env.token");
  EXPECT_EQ(Parse({"--coordinator=flag:1", "get", "jobs"})->connection.coordinator, "flag:1");
}

TEST_F(ParseCommandLineTest, ParsesEveryVerb) {
  auto submit = Parse({"submit", "-f", "jobs.yaml"});
  ASSERT_TRUE(submit.ok()) << submit.status();
  EXPECT_EQ(submit->verb, Invocation::Verb::kSubmit);
  EXPECT_EQ(submit->file, "jobs.yaml");
  EXPECT_EQ(Parse({"submit", "-f", "-"})->file, "-");
  EXPECT_EQ(Parse({"submit", "--filename=x.yaml"})->file, "x.yaml");

  auto get_job = Parse({"get", "job", "fmnist-pretrain", "-o", "json"});
  ASSERT_TRUE(get_job.ok()) << get_job.status();
  EXPECT_EQ(get_job->verb, Invocation::Verb::kGetJob);
  EXPECT_EQ(get_job->job, "fmnist-pretrain");
  EXPECT_EQ(get_job->format, OutputFormat::kJson);
  EXPECT_TRUE(Parse({"get", "job", "x", "--metrics"})->metrics);
  EXPECT_EQ(Parse({"get", "workers", "-o", "wide"})->format, OutputFormat::kWide);
  EXPECT_EQ(Parse({"get", "workers"})->verb, Invocation::Verb::kGetWorkers);
  EXPECT_EQ(Parse({"describe", "job", "j-3"})->verb, Invocation::Verb::kDescribe);
  EXPECT_EQ(Parse({"cancel", "j-3"})->verb, Invocation::Verb::kCancel);
  EXPECT_EQ(Parse({"watch", "j-3"})->job, "j-3");
  EXPECT_EQ(Parse({"retry", "j-3"})->verb, Invocation::Verb::kRetry);

  auto logs = Parse({"logs", "pre", "--rank", "1", "--attempt=2", "-f"});
  ASSERT_TRUE(logs.ok()) << logs.status();
  EXPECT_EQ(logs->verb, Invocation::Verb::kLogs);
  EXPECT_EQ(logs->rank, 1);
  EXPECT_EQ(logs->attempt, 2);
  EXPECT_TRUE(logs->follow);
  EXPECT_FALSE(Parse({"logs", "pre"})->follow);

  auto remove = Parse({"delete", "pre", "--cancel"});
  ASSERT_TRUE(remove.ok()) << remove.status();
  EXPECT_EQ(remove->verb, Invocation::Verb::kDelete);
  EXPECT_TRUE(remove->cancel);
}

TEST_F(ParseCommandLineTest, GetJobsFiltersAndPages) {
  auto jobs = Parse({"get", "jobs", "--state", "running,QUEUED", "-l", "team=vision",
                     "-l", "exp=a1", "--limit", "20", "-o", "wide", "--watch"});
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ(jobs->verb, Invocation::Verb::kGetJobs);
  EXPECT_THAT(jobs->states, ElementsAre(v1::RUNNING, v1::QUEUED));
  EXPECT_EQ(jobs->label_selector, "team=vision,exp=a1");
  EXPECT_EQ(jobs->limit, 20);
  EXPECT_TRUE(jobs->watch);
  EXPECT_EQ(jobs->format, OutputFormat::kWide);
  EXPECT_THAT(ErrorOf({"get", "jobs", "--state", "done"}), HasSubstr("unknown state \"done\""));
  EXPECT_THAT(ErrorOf({"get", "jobs", "-l", "team"}),
              HasSubstr("-l: \"team\" is not a label; expected key=value"));
  EXPECT_THAT(ErrorOf({"get", "jobs", "--watch", "-o", "json"}),
              HasSubstr("--watch: prints tables"));
}

TEST_F(ParseCommandLineTest, HelpVersionAndCompletionArePrinted) {
  auto help = Parse({"--help"});
  ASSERT_TRUE(help.ok()) << help.status();
  EXPECT_EQ(help->verb, Invocation::Verb::kPrint);
  EXPECT_THAT(help->text, HasSubstr("submit"));
  EXPECT_THAT(help->text, HasSubstr("--coordinator"));
  // A verb's help lists the verb's own flags.
  EXPECT_THAT(Parse({"get", "jobs", "--help"})->text, HasSubstr("--state"));
  EXPECT_THAT(Parse({"help", "logs"})->text, HasSubstr("--follow"));
  EXPECT_THAT(ErrorOf({"help", "frob"}), HasSubstr("help: unknown verb \"frob\""));
  EXPECT_THAT(Parse({"version"})->text, HasSubstr("simclrctl 0."));

  auto bash = Parse({"completion", "bash"});
  ASSERT_TRUE(bash.ok()) << bash.status();
  EXPECT_THAT(bash->text, HasSubstr("complete -F _simclrctl simclrctl"));
  EXPECT_THAT(bash->text, HasSubstr("\"get jobs\") words=\""));
  EXPECT_THAT(bash->text, HasSubstr("--state"));
  // Job arguments complete with job names.
  EXPECT_THAT(bash->text, HasSubstr("\"logs\""));
  EXPECT_THAT(bash->text, HasSubstr("simclrctl get jobs -o name"));
  EXPECT_THAT(Parse({"completion", "zsh"})->text, HasSubstr("bashcompinit"));
  EXPECT_FALSE(Parse({"completion", "fish"}).ok());
}

TEST_F(ParseCommandLineTest, UsageErrorsNameWhatWasExpected) {
  EXPECT_THAT(ErrorOf({}), HasSubstr("missing verb; expected one of submit, get"));
  EXPECT_THAT(ErrorOf({"frob"}), HasSubstr("unknown verb \"frob\""));
  EXPECT_THAT(ErrorOf({"--coordinator=nohost", "get", "jobs"}),
              HasSubstr("\"nohost\" has no port; expected HOST:PORT"));
  EXPECT_THAT(ErrorOf({"get", "jobs", "-o", "xml"}),
              HasSubstr("unknown output format \"xml\""));
  EXPECT_THAT(ErrorOf({"submit"}), HasSubstr("--filename"));
  EXPECT_THAT(ErrorOf({"cancel"}), HasSubstr("job"));
  EXPECT_FALSE(Parse({"cancel", "a", "b"}).ok());
  EXPECT_FALSE(Parse({"get", "jobs", "--bogus"}).ok());
  EXPECT_FALSE(Parse({"logs", "a", "--rank", "-1"}).ok());
}

}  // namespace
}  // namespace simclr::client
