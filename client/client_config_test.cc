#include "client/client_config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace simclr::client {
namespace {

using ::testing::HasSubstr;

std::string WriteConfig(const std::string& text) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/config.yaml") << text;
  return dir + "/config.yaml";
}

constexpr char kConfig[] = R"(current-context: prod
contexts:
  - name: prod
    coordinator: simclr.example.com:50051
    token-file: prod.token
    ca: /etc/simclr/ca.pem
  - name: local
    coordinator: 127.0.0.1:50051
)";

TEST(ClientConfigTest, TheCurrentContextOrANamedOne) {
  const std::string path = WriteConfig(kConfig);
  const std::string dir = std::filesystem::path(path).parent_path().string();
  absl::StatusOr<Connection> current = LoadContext(path, "");
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_EQ(current->coordinator, "simclr.example.com:50051");
  EXPECT_EQ(current->token_file, dir + "/prod.token");  // relative to the file
  EXPECT_EQ(current->ca, "/etc/simclr/ca.pem");
  EXPECT_EQ(LoadContext(path, "local")->coordinator, "127.0.0.1:50051");
  EXPECT_EQ(LoadContext(path, "local")->token_file, "");
}

TEST(ClientConfigTest, FlagsBeatTheContextWhichBeatsTheDefault) {
  Connection context{"ctx:1", "ctx.token", "ctx-ca.pem", "", ""};
  Connection flags{"flag:2", "", "flag-ca.pem", "", ""};
  const Connection c = ResolveConnection(flags, context);
  EXPECT_EQ(c.coordinator, "flag:2");
  EXPECT_EQ(c.token_file, "ctx.token");
  EXPECT_EQ(c.ca, "flag-ca.pem");
  EXPECT_EQ(ResolveConnection({}, {}).coordinator, "localhost:50051");
}

TEST(ClientConfigTest, NoFileIsNoContextUnlessOneWasNamed) {
  EXPECT_EQ(LoadContext("/nonexistent/config.yaml", "")->coordinator, "");
  EXPECT_TRUE(absl::IsNotFound(LoadContext("/nonexistent/config.yaml", "prod").status()));
}

TEST(ClientConfigTest, MistakesNameTheFileAndTheKey) {
  const std::string path = WriteConfig(kConfig);
  auto unknown = LoadContext(path, "staging");
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr("no context \"staging\"; it has prod, local"));
  const std::string typo = WriteConfig("current-context: a\ncontexts:\n  - name: a\n    tokenfile: x\n");
  EXPECT_THAT(std::string(LoadContext(typo, "").status().message()),
              HasSubstr("context \"a\": unknown key \"tokenfile\""));
  const std::string top = WriteConfig("current_context: a\n");
  EXPECT_THAT(std::string(LoadContext(top, "").status().message()),
              HasSubstr("unknown key \"current_context\""));
}

}  // namespace
}  // namespace simclr::client
