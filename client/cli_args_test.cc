#include "client/cli_args.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simclr::client {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<Invocation> Parse(std::vector<std::string> args) {
  return ParseCommandLine(args);
}

TEST(ParseCommandLineTest, ConnectionFlagsAreTakenAsGivenAndOnlyThen) {
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

TEST(ParseCommandLineTest, ParsesEveryVerb) {
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
  EXPECT_EQ(Parse({"get", "workers", "-oyaml"})->format, OutputFormat::kYaml);
  EXPECT_EQ(Parse({"get", "workers"})->verb, Invocation::Verb::kGetWorkers);
  EXPECT_EQ(Parse({"get", "jobs", "--output=table"})->verb,
            Invocation::Verb::kGetJobs);

  EXPECT_EQ(Parse({"cancel", "j-1"})->verb, Invocation::Verb::kCancel);
  auto watch = Parse({"watch", "j-1"});
  EXPECT_EQ(watch->verb, Invocation::Verb::kWatch);
  EXPECT_EQ(watch->job, "j-1");
}

TEST(ParseCommandLineTest, HelpForTheToolAndForAVerb) {
  auto help = Parse({"--help"});
  ASSERT_TRUE(help.ok());
  EXPECT_EQ(help->verb, Invocation::Verb::kHelp);
  EXPECT_THAT(help->help_text, HasSubstr("Usage: simclrctl"));
  auto verb_help = Parse({"help", "watch"});
  ASSERT_TRUE(verb_help.ok());
  EXPECT_THAT(verb_help->help_text, HasSubstr("Usage: simclrctl watch"));
  EXPECT_THAT(Parse({"submit", "--help"})->help_text,
              HasSubstr("Usage: simclrctl submit -f FILE"));
  EXPECT_FALSE(Parse({"help", "frobnicate"}).ok());
}

TEST(ParseCommandLineTest, UsageErrorsNameTheArgumentAndTheExpectation) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{}, "missing verb; expected submit, get, cancel, watch or help"},
      {{"launch"}, "unknown verb \"launch\"; expected submit"},
      {{"submit"}, "submit: missing -f FILE"},
      {{"submit", "-f"}, "-f: missing value"},
      {{"get"}, "get: missing what to get; expected jobs, job ID|NAME or "
                "workers"},
      {{"get", "pods"}, "get: unknown resource \"pods\""},
      {{"get", "job"}, "get: missing a job ID or NAME"},
      {{"get", "jobs", "-o", "xml"},
       "-o: unknown output format \"xml\"; expected table, json or yaml"},
      {{"cancel"}, "cancel: missing a job ID or NAME"},
      {{"watch", "a", "b"}, "watch: unexpected argument \"b\""},
      {{"watch", "a", "-o", "json"}, "-o: only `get` takes an output format"},
      {{"get", "jobs", "--verbose"}, "unknown flag --verbose"},
      {{"--coordinator=nohost", "get", "jobs"},
       "--coordinator: \"nohost\" has no port; expected HOST:PORT"},
  };
  for (const Case& c : cases) {
    auto inv = Parse(c.args);
    ASSERT_FALSE(inv.ok()) << c.message;
    EXPECT_EQ(inv.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(inv.status().message(), HasSubstr(c.message));
  }
}

TEST(ParseCommandLineTest, DoubleDashEndsFlags) {
  auto inv = Parse({"get", "job", "--", "-odd-name"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->job, "-odd-name");
}

}  // namespace
}  // namespace simclr::client
