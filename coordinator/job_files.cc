#include "coordinator/job_files.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "model/checkpoint/checkpoint_files.h"

namespace simclr::coordinator {

absl::StatusOr<std::string> ReadFileFrom(const std::string& path, int64_t offset,
                                         size_t max_bytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    if (errno == ENOENT) return std::string();
    return absl::InternalError(absl::StrCat("reading ", path, ": ", std::strerror(errno)));
  }
  file.seekg(0, std::ios::end);
  const int64_t size = file.tellg();
  if (offset >= size) return std::string();
  std::string data(std::min<int64_t>(size - offset, max_bytes), '\0');
  file.seekg(offset);
  file.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(file.gcount());
  return data;
}

absl::StatusOr<v1::JobMetrics> ReadJobMetrics(const std::string& artifact_dir, int attempts) {
  std::map<int64_t, v1::StepMetrics> by_step;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    const std::string path =
        absl::StrCat(model::AttemptDirectory(artifact_dir, attempt), "/", model::kStepLogName);
    std::ifstream log(path);
    if (!log) continue;
    std::string line;
    while (std::getline(log, line)) {
      google::protobuf::Struct record;
      if (!google::protobuf::util::JsonStringToMessage(line, &record).ok()) continue;
      auto step = record.fields().find("step");
      if (step == record.fields().end() || !step->second.has_number_value()) continue;
      v1::StepMetrics point;
      point.set_step(static_cast<int64_t>(step->second.number_value()));
      for (const auto& [name, value] : record.fields()) {
        if (!value.has_number_value() || name == "step") continue;
        if (name == "epoch") {
          point.set_epoch(value.number_value());
        } else if (name == "time") {
          point.set_time(value.number_value());
        } else {
          (*point.mutable_values())[name] = value.number_value();
        }
      }
      by_step[point.step()] = std::move(point);  // a later attempt's wins
    }
    if (log.bad()) return absl::InternalError(absl::StrCat("reading ", path));
  }
  v1::JobMetrics metrics;
  for (auto& [step, point] : by_step) *metrics.add_steps() = std::move(point);
  return metrics;
}

}  // namespace simclr::coordinator
