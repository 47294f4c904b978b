#include "model/data/cifar10.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>
#include <vector>

#include <ATen/ops/empty.h>
#include <c10/util/Exception.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace simclr::model {
namespace {

constexpr int64_t kPixels = 3 * 32 * 32;
constexpr int64_t kRecord = 1 + kPixels;
constexpr int64_t kClasses = 10;

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return bytes;
}

}  // namespace

absl::StatusOr<std::unique_ptr<InMemoryDataset>> ReadCifar10(const std::string& dir,
                                                             absl::string_view split) {
  std::vector<std::string> names;
  if (split == "train") {
    for (int i = 1; i <= 5; ++i) names.push_back(absl::StrCat("data_batch_", i, ".bin"));
  } else if (split == "test") {
    names.push_back("test_batch.bin");
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("cifar10 split '", split, "'; expected train or test"));
  }
  std::string root = dir;
  std::error_code ec;
  if (!std::filesystem::exists(root + "/" + names[0], ec) &&
      std::filesystem::exists(root + "/cifar-10-batches-bin/" + names[0], ec)) {
    root += "/cifar-10-batches-bin";
  }

  std::vector<std::string> contents;
  int64_t total = 0;
  for (const std::string& name : names) {
    const std::string path = root + "/" + name;
    ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path));
    if (bytes.empty() || bytes.size() % kRecord != 0) {
      return absl::DataLossError(absl::StrCat(path, ": ", bytes.size(),
                                              " bytes, expected a positive multiple of the ",
                                              kRecord, "-byte record (1 label + 3x32x32)"));
    }
    total += static_cast<int64_t>(bytes.size()) / kRecord;
    contents.push_back(std::move(bytes));
  }

  try {
    at::Tensor images = at::empty({total, 3, 32, 32}, at::kByte);
    uint8_t* out = images.data_ptr<uint8_t>();
    std::vector<int64_t> labels;
    labels.reserve(total);
    for (size_t f = 0; f < contents.size(); ++f) {
      const std::string& bytes = contents[f];
      const int64_t records = static_cast<int64_t>(bytes.size()) / kRecord;
      for (int64_t r = 0; r < records; ++r) {
        const char* record = bytes.data() + r * kRecord;
        const int64_t label = static_cast<unsigned char>(record[0]);
        if (label >= kClasses) {
          return absl::DataLossError(absl::StrCat(root, "/", names[f], ": record ", r,
                                                  " has label ", label, ", expected 0..",
                                                  kClasses - 1));
        }
        labels.push_back(label);
        std::memcpy(out, record + 1, kPixels);
        out += kPixels;
      }
    }
    return std::make_unique<InMemoryDataset>(std::move(images), std::move(labels), kClasses);
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("allocating cifar10 ", split, ": ", e.what_without_backtrace()));
  }
}

}  // namespace simclr::model
