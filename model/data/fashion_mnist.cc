#include "model/data/fashion_mnist.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <ATen/ops/empty.h>
#include <c10/util/Exception.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace simclr::model {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension
constexpr int64_t kSide = 28;
constexpr int64_t kClasses = 10;

uint32_t BigEndian32(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + offset;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Checks the IDX header of `bytes` read from `path`: magic, the dimensions in
// `expected_dims` (-1 = any, reported through `count`), and the total size.
absl::Status CheckIdx(const std::string& path, const std::string& bytes, uint32_t magic,
                      const std::vector<int64_t>& expected_dims, int64_t* count) {
  const size_t header = 4 + 4 * expected_dims.size();
  if (bytes.size() < header) {
    return absl::DataLossError(absl::StrCat(path, ": ", bytes.size(),
                                            " bytes, shorter than the ", header,
                                            "-byte IDX header"));
  }
  if (BigEndian32(bytes, 0) != magic) {
    return absl::DataLossError(absl::StrCat(path, ": IDX magic number 0x",
                                            absl::Hex(BigEndian32(bytes, 0), absl::kZeroPad8),
                                            ", expected 0x", absl::Hex(magic, absl::kZeroPad8)));
  }
  int64_t payload = 1;
  for (size_t d = 0; d < expected_dims.size(); ++d) {
    const int64_t dim = BigEndian32(bytes, 4 + 4 * d);
    if (expected_dims[d] >= 0 && dim != expected_dims[d]) {
      return absl::DataLossError(absl::StrCat(path, ": dimension ", d, " is ", dim,
                                              ", expected ", expected_dims[d]));
    }
    if (d == 0) *count = dim;
    payload *= dim;
  }
  const int64_t expected = static_cast<int64_t>(header) + payload;
  if (static_cast<int64_t>(bytes.size()) != expected) {
    return absl::DataLossError(absl::StrCat(
        path, ": ", bytes.size(), " bytes after decompression, expected ", expected,
        " (header of ", header, " bytes + ", payload, " for ", *count, " items)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadGzipFile(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  gzbuffer(file, 1 << 20);
  std::string out;
  char chunk[1 << 16];
  while (true) {
    const int n = gzread(file, chunk, sizeof(chunk));
    if (n < 0) break;
    out.append(chunk, n);
    if (n == 0 || gzeof(file)) break;
  }
  int err = Z_OK;
  const char* message = gzerror(file, &err);
  std::string error = (err != Z_OK && err != Z_STREAM_END) ? message : "";
  gzclose(file);
  if (!error.empty()) {
    return absl::DataLossError(
        absl::StrCat(path, ": corrupt or truncated gzip stream (", error, ") after ",
                     out.size(), " decompressed bytes"));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<InMemoryDataset>> ReadFashionMnist(const std::string& dir,
                                                                  absl::string_view split) {
  std::string prefix;
  if (split == "train") {
    prefix = "train";
  } else if (split == "test") {
    prefix = "t10k";
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("fashion-mnist split '", split, "'; expected train or test"));
  }
  const std::string images_path = absl::StrCat(dir, "/", prefix, "-images-idx3-ubyte.gz");
  const std::string labels_path = absl::StrCat(dir, "/", prefix, "-labels-idx1-ubyte.gz");
  ASSIGN_OR_RETURN(const std::string image_bytes, ReadGzipFile(images_path));
  ASSIGN_OR_RETURN(const std::string label_bytes, ReadGzipFile(labels_path));

  int64_t num_images = 0;
  int64_t num_labels = 0;
  RETURN_IF_ERROR(CheckIdx(images_path, image_bytes, kImagesMagic, {-1, kSide, kSide},
                           &num_images));
  RETURN_IF_ERROR(CheckIdx(labels_path, label_bytes, kLabelsMagic, {-1}, &num_labels));
  if (num_images != num_labels) {
    return absl::DataLossError(absl::StrCat(images_path, " holds ", num_images, " images but ",
                                            labels_path, " holds ", num_labels, " labels"));
  }
  std::vector<int64_t> labels(num_labels);
  for (int64_t i = 0; i < num_labels; ++i) {
    labels[i] = static_cast<unsigned char>(label_bytes[8 + i]);
    if (labels[i] >= kClasses) {
      return absl::DataLossError(absl::StrCat(labels_path, ": label ", labels[i], " at index ",
                                              i, ", expected 0..", kClasses - 1));
    }
  }
  try {
    at::Tensor images = at::empty({num_images, 1, kSide, kSide}, at::kByte);
    std::memcpy(images.data_ptr<uint8_t>(), image_bytes.data() + 16,
                static_cast<size_t>(num_images * kSide * kSide));
    return std::make_unique<InMemoryDataset>(std::move(images), std::move(labels), kClasses);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("allocating fashion-mnist ", split, ": ",
                                            e.what_without_backtrace()));
  }
}

}  // namespace simclr::model
