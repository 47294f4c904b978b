// Conversions between absl::Time and google.protobuf.Timestamp.
#ifndef SIMCLR_COMMON_TIME_UTIL_H_
#define SIMCLR_COMMON_TIME_UTIL_H_

#include <google/protobuf/timestamp.pb.h>

#include "absl/time/time.h"

namespace simclr {

inline google::protobuf::Timestamp ToProto(absl::Time t) {
  const int64_t nanos = absl::ToUnixNanos(t);
  google::protobuf::Timestamp ts;
  ts.set_seconds(nanos / 1000000000);
  ts.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  if (ts.nanos() < 0) {
    ts.set_seconds(ts.seconds() - 1);
    ts.set_nanos(ts.nanos() + 1000000000);
  }
  return ts;
}

inline absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace simclr

#endif  // SIMCLR_COMMON_TIME_UTIL_H_
