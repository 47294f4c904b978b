#include "worker/trainer_channel.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace simclr::worker {
namespace {

class TrainerChannelTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(pipe2(fds_, O_CLOEXEC), 0); }
  void TearDown() override {
    CloseWriter();
    ::close(fds_[0]);
  }
  void CloseWriter() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }
  void WriteRaw(const std::string& bytes) {
    ASSERT_EQ(::write(fds_[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

  int fds_[2] = {-1, -1};
};

TEST_F(TrainerChannelTest, EventsArriveWholeAndInOrderThenTheEnd) {
  EventWriter writer(fds_[1]);
  TrainerEvent first;
  first.mutable_progress()->mutable_progress()->set_step(7);
  (*first.mutable_progress()->mutable_metrics())["loss"] = 1.25;
  TrainerEvent second;
  second.mutable_result()->set_code(3);
  second.mutable_result()->set_message("bad");
  ASSERT_TRUE(writer.Write(first).ok());
  ASSERT_TRUE(writer.Write(second).ok());
  CloseWriter();

  EventReader reader(fds_[0]);
  TrainerEvent event;
  ASSERT_EQ(*reader.Read(absl::Seconds(5), &event), EventReader::kEvent);
  EXPECT_EQ(event.progress().progress().step(), 7);
  EXPECT_DOUBLE_EQ(event.progress().metrics().at("loss"), 1.25);
  ASSERT_EQ(*reader.Read(absl::Seconds(5), &event), EventReader::kEvent);
  EXPECT_EQ(event.result().message(), "bad");
  EXPECT_EQ(*reader.Read(absl::Seconds(5), &event), EventReader::kEnd);
}

TEST_F(TrainerChannelTest, AFrameSplitAcrossWritesIsReassembled) {
  TrainerEvent big;
  big.mutable_result()->set_message(std::string(300, 'm'));  // a 2-byte length prefix
  std::string frame;
  frame.push_back(static_cast<char>(0x80 | (big.ByteSizeLong() & 0x7f)));
  frame.push_back(static_cast<char>(big.ByteSizeLong() >> 7));
  frame += big.SerializeAsString();

  EventReader reader(fds_[0]);
  TrainerEvent event;
  WriteRaw(frame.substr(0, 1));
  EXPECT_EQ(*reader.Read(absl::Milliseconds(50), &event), EventReader::kTimeout);
  WriteRaw(frame.substr(1, 100));
  EXPECT_EQ(*reader.Read(absl::Milliseconds(50), &event), EventReader::kTimeout);
  WriteRaw(frame.substr(101));
  ASSERT_EQ(*reader.Read(absl::Seconds(5), &event), EventReader::kEvent);
  EXPECT_EQ(event.result().message(), std::string(300, 'm'));
}

TEST_F(TrainerChannelTest, AnOversizedFrameIsRefusedWithoutReadingIt) {
  WriteRaw(std::string("\xff\xff\xff\x7f", 4));  // 268 MB announced
  EventReader reader(fds_[0]);
  TrainerEvent event;
  absl::StatusOr<EventReader::Next> next = reader.Read(absl::Seconds(5), &event);
  EXPECT_TRUE(absl::IsDataLoss(next.status())) << next.status();
}

TEST_F(TrainerChannelTest, ATruncatedLastFrameIsDataLoss) {
  WriteRaw(std::string("\x05\x08", 2));  // 5 bytes announced, 1 sent
  CloseWriter();
  EventReader reader(fds_[0]);
  TrainerEvent event;
  EXPECT_TRUE(absl::IsDataLoss(reader.Read(absl::Seconds(5), &event).status()));
}

TEST_F(TrainerChannelTest, WritingToAClosedReaderIsUnavailable) {
  ::signal(SIGPIPE, SIG_IGN);
  ::close(fds_[0]);
  fds_[0] = ::open("/dev/null", O_RDONLY);  // TearDown closes something valid
  EventWriter writer(fds_[1]);
  TrainerEvent event;
  event.set_alive(true);
  EXPECT_TRUE(absl::IsUnavailable(writer.Write(event)));
}

}  // namespace
}  // namespace simclr::worker
