#include "worker/trainer_channel.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace simclr::worker {

absl::Status EventWriter::Write(const TrainerEvent& event) {
  std::string frame;
  {
    google::protobuf::io::StringOutputStream stream(&frame);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.WriteVarint32(static_cast<uint32_t>(event.ByteSizeLong()));
    if (!event.SerializeToCodedStream(&coded)) {
      return absl::InternalError("cannot serialize a trainer event");
    }
  }
  absl::MutexLock lock(&mu_);
  size_t written = 0;
  while (written < frame.size()) {
    const ssize_t n = ::write(fd_, frame.data() + written, frame.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::UnavailableError(absl::StrCat("event channel: ", std::strerror(errno)));
    }
    written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> EventReader::TakeBuffered(TrainerEvent* event) {
  // The length prefix: a varint of at most 5 bytes (32 bits).
  uint64_t size = 0;
  size_t prefix = 0;
  for (;; ++prefix) {
    if (prefix == buffer_.size()) return false;  // incomplete prefix
    if (prefix == 5) return absl::DataLossError("trainer event: malformed length prefix");
    const auto byte = static_cast<uint8_t>(buffer_[prefix]);
    size |= static_cast<uint64_t>(byte & 0x7f) << (7 * prefix);
    if ((byte & 0x80) == 0) break;
  }
  ++prefix;
  if (size > kMaxTrainerEventBytes) {
    return absl::DataLossError(
        absl::StrCat("trainer event of ", size, " bytes; at most ", kMaxTrainerEventBytes));
  }
  if (buffer_.size() - prefix < size) return false;  // incomplete body
  if (!event->ParseFromArray(buffer_.data() + prefix, static_cast<int>(size))) {
    return absl::DataLossError("trainer event: cannot parse");
  }
  buffer_.erase(0, prefix + size);
  return true;
}

absl::StatusOr<EventReader::Next> EventReader::Read(absl::Duration timeout,
                                                    TrainerEvent* event) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::StatusOr<bool> taken = TakeBuffered(event);
    if (!taken.ok()) return taken.status();
    if (*taken) return kEvent;
    if (closed_) {
      if (!buffer_.empty()) return absl::DataLossError("trainer event: truncated at the end");
      return kEnd;
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return kTimeout;
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    if (ready == 0) return kTimeout;
    char chunk[16384];
    const ssize_t n = ::read(fd_, chunk, sizeof(chunk));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return absl::InternalError(absl::StrCat("read: ", std::strerror(errno)));
    if (n == 0) {
      closed_ = true;
    } else {
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
}

}  // namespace simclr::worker
