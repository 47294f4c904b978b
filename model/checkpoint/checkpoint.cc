#include "model/checkpoint/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <limits>
#include <utility>

#include <c10/core/GradMode.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace simclr::model {
namespace {

constexpr char kMagic[8] = {'S', 'I', 'M', 'C', 'L', 'R', 'C', 'K'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kPreambleSize = 32;
constexpr uint64_t kAlignment = 64;
constexpr int kMaxRank = 16;

// Stable on-disk dtype codes (c10::ScalarType's numbering is not a contract).
struct DtypeCode {
  uint8_t code;
  torch::Dtype dtype;
};
constexpr DtypeCode kDtypeCodes[] = {
    {1, torch::kFloat32}, {2, torch::kFloat64}, {3, torch::kFloat16},
    {4, torch::kBFloat16}, {5, torch::kInt64},  {6, torch::kInt32},
    {7, torch::kInt16},   {8, torch::kInt8},    {9, torch::kUInt8},
    {10, torch::kBool},
};

absl::StatusOr<uint8_t> CodeForDtype(torch::Dtype dtype) {
  for (const DtypeCode& c : kDtypeCodes) {
    if (c.dtype == dtype) return c.code;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported dtype ", c10::toString(dtype)));
}

bool DtypeForCode(uint8_t code, torch::Dtype* dtype) {
  for (const DtypeCode& c : kDtypeCodes) {
    if (c.code == code) {
      *dtype = c.dtype;
      return true;
    }
  }
  return false;
}

uint64_t AlignUp(uint64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

uint32_t Crc32(uint32_t crc, const void* data, size_t n) {
  return static_cast<uint32_t>(
      crc32_z(crc, static_cast<const Bytef*>(data), static_cast<z_size_t>(n)));
}

std::string ErrnoText() { return std::strerror(errno); }

// Little-endian encoding of the header.
class Writer {
 public:
  template <typename T>
  void Put(T v) {
    for (size_t i = 0; i < sizeof(T); ++i) {
      out_.push_back(static_cast<char>(static_cast<uint64_t>(v) >> (8 * i)));
    }
  }
  void PutBytes(const std::string& s) { out_.append(s); }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

// Bounds-checked little-endian decoding; every read reports failure instead
// of running past the end.
class Reader {
 public:
  Reader(const char* data, size_t size) : data_(data), size_(size) {}
  template <typename T>
  bool Get(T* v) {
    if (size_ - pos_ < sizeof(T)) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      x |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += sizeof(T);
    *v = static_cast<T>(x);
    return true;
  }
  bool GetBytes(size_t n, std::string* s) {
    if (size_ - pos_ < n) return false;
    s->assign(data_ + pos_, n);
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }
  bool done() const { return pos_ == size_; }

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Closes the descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

absl::Status WriteAll(int fd, const void* data, size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("writing ", path, ": ", ErrnoText()));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

// Reads exactly n bytes at `offset`; DataLoss when the file is shorter.
absl::Status ReadAt(int fd, uint64_t offset, void* data, size_t n,
                    const std::string& path) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("reading ", path, ": ", ErrnoText()));
    }
    if (r == 0) {
      return absl::DataLossError(
          absl::StrCat("checkpoint ", path, " is truncated at byte ", offset));
    }
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return absl::OkStatus();
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// At most `limit` names, then how many more: a depth mix-up misses hundreds.
std::string JoinCapped(const std::vector<std::string>& names, size_t limit = 8) {
  if (names.size() <= limit) return absl::StrJoin(names, ", ");
  std::vector<std::string> head(names.begin(), names.begin() + limit);
  return absl::StrCat(absl::StrJoin(head, ", "), ", ... and ", names.size() - limit, " more");
}

struct TensorEntry {
  std::string name;
  torch::Dtype dtype;
  std::vector<int64_t> dims;
  uint64_t offset;
  uint64_t nbytes;
};

absl::StatusOr<Checkpoint> LoadCheckpointOrThrow(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("checkpoint ", path, " does not exist"));
    }
    return absl::InternalError(absl::StrCat("opening checkpoint ", path, ": ", ErrnoText()));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return absl::InternalError(absl::StrCat("stat of checkpoint ", path, ": ", ErrnoText()));
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  auto data_loss = [&path](const std::string& what) {
    return absl::DataLossError(absl::StrCat("checkpoint ", path, ": ", what));
  };
  if (file_size < kPreambleSize) {
    return data_loss(absl::StrCat("truncated: ", file_size, " bytes, shorter than the ",
                                  kPreambleSize, "-byte preamble"));
  }
  char preamble[kPreambleSize];
  RETURN_IF_ERROR(ReadAt(fd.get(), 0, preamble, kPreambleSize, path));
  if (std::memcmp(preamble, kMagic, sizeof(kMagic)) != 0) {
    return data_loss("bad magic (not a SimCLR checkpoint)");
  }
  Reader pre(preamble + sizeof(kMagic), kPreambleSize - sizeof(kMagic));
  uint32_t version = 0, header_len = 0, header_crc = 0, payload_crc = 0;
  uint64_t payload_len = 0;
  pre.Get(&version);
  pre.Get(&header_len);
  pre.Get(&payload_len);
  pre.Get(&header_crc);
  pre.Get(&payload_crc);
  if (version != kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint ", path, ": format version ", version, ", this reader knows ",
        kFormatVersion));
  }
  const uint64_t payload_start = AlignUp(kPreambleSize + uint64_t{header_len});
  if (payload_start > file_size || payload_len != file_size - payload_start) {
    return data_loss(absl::StrCat("truncated or padded: file has ", file_size,
                                  " bytes, header says ", payload_start, " + ",
                                  payload_len));
  }
  std::string header(header_len, '\0');
  RETURN_IF_ERROR(ReadAt(fd.get(), kPreambleSize, header.data(), header_len, path));
  if (Crc32(0, header.data(), header.size()) != header_crc) {
    return data_loss("header checksum mismatch");
  }

  Checkpoint checkpoint;
  Reader h(header.data(), header.size());
  uint32_t metadata_len = 0, count = 0;
  if (!h.Get(&checkpoint.step) || !h.Get(&checkpoint.epoch) || !h.Get(&metadata_len) ||
      !h.GetBytes(metadata_len, &checkpoint.metadata) || !h.Get(&count)) {
    return data_loss("header too short for step/epoch/metadata");
  }
  std::vector<TensorEntry> entries;
  for (uint32_t i = 0; i < count; ++i) {
    TensorEntry e;
    uint32_t name_len = 0;
    uint8_t code = 0, rank = 0;
    if (!h.Get(&name_len) || !h.GetBytes(name_len, &e.name) || !h.Get(&code) ||
        !h.Get(&rank)) {
      return data_loss(absl::StrCat("header truncated in tensor entry ", i));
    }
    if (!DtypeForCode(code, &e.dtype)) {
      return data_loss(absl::StrCat("tensor '", e.name, "' has unknown dtype code ",
                                    static_cast<int>(code)));
    }
    if (rank > kMaxRank) {
      return data_loss(absl::StrCat("tensor '", e.name, "' has rank ",
                                    static_cast<int>(rank)));
    }
    uint64_t numel = 1;
    bool overflow = false;
    for (int d = 0; d < rank; ++d) {
      int64_t dim = 0;
      if (!h.Get(&dim)) return data_loss(absl::StrCat("header truncated in '", e.name, "'"));
      if (dim < 0) return data_loss(absl::StrCat("tensor '", e.name, "' has a negative dim"));
      e.dims.push_back(dim);
      if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(dim)) {
        overflow = true;
      }
      numel *= static_cast<uint64_t>(dim);
    }
    if (!h.Get(&e.offset) || !h.Get(&e.nbytes)) {
      return data_loss(absl::StrCat("header truncated in '", e.name, "'"));
    }
    const uint64_t elem = c10::elementSize(e.dtype);
    if (overflow || numel > std::numeric_limits<uint64_t>::max() / elem ||
        numel * elem != e.nbytes) {
      return data_loss(absl::StrCat("tensor '", e.name, "': byte length ", e.nbytes,
                                    " does not match its shape and dtype"));
    }
    if (e.offset > payload_len || e.nbytes > payload_len - e.offset) {
      return data_loss(absl::StrCat("tensor '", e.name, "' lies outside the payload (offset ",
                                    e.offset, ", length ", e.nbytes, ", payload ",
                                    payload_len, ")"));
    }
    entries.push_back(std::move(e));
  }
  if (!h.done()) return data_loss("trailing bytes in header");

  // Read in payload order so the CRC covers the payload front to back,
  // including the padding between tensors.
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return entries[a].offset < entries[b].offset; });
  uint32_t crc = Crc32(0, nullptr, 0);
  uint64_t cursor = 0;
  std::string gap;
  for (size_t i : order) {
    const TensorEntry& e = entries[i];
    if (e.offset < cursor) {
      return data_loss(absl::StrCat("tensor '", e.name, "' overlaps the previous tensor"));
    }
    gap.resize(e.offset - cursor);
    RETURN_IF_ERROR(ReadAt(fd.get(), payload_start + cursor, gap.data(), gap.size(), path));
    crc = Crc32(crc, gap.data(), gap.size());
    torch::Tensor t = torch::empty(e.dims, torch::TensorOptions().dtype(e.dtype));
    RETURN_IF_ERROR(ReadAt(fd.get(), payload_start + e.offset, t.data_ptr(), e.nbytes, path));
    crc = Crc32(crc, t.data_ptr(), e.nbytes);
    cursor = e.offset + e.nbytes;
    if (!checkpoint.tensors.emplace(e.name, std::move(t)).second) {
      return data_loss(absl::StrCat("tensor '", e.name, "' appears twice"));
    }
  }
  gap.resize(payload_len - cursor);
  RETURN_IF_ERROR(ReadAt(fd.get(), payload_start + cursor, gap.data(), gap.size(), path));
  crc = Crc32(crc, gap.data(), gap.size());
  if (crc != payload_crc) return data_loss("payload checksum mismatch");
  return checkpoint;
}

absl::Status SaveCheckpointOrThrow(const std::string& path, const Checkpoint& checkpoint) {
  // Contiguous CPU copies (no copy when a tensor already is one).
  std::vector<std::pair<const std::string*, torch::Tensor>> tensors;
  Writer h;
  h.Put<int64_t>(checkpoint.step);
  h.Put<int64_t>(checkpoint.epoch);
  if (checkpoint.metadata.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint ", path, ": metadata larger than 4 GiB"));
  }
  h.Put<uint32_t>(static_cast<uint32_t>(checkpoint.metadata.size()));
  h.PutBytes(checkpoint.metadata);
  h.Put<uint32_t>(static_cast<uint32_t>(checkpoint.tensors.size()));
  uint64_t payload_len = 0;
  for (const auto& [name, tensor] : checkpoint.tensors) {
    if (!tensor.defined()) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint ", path, ": tensor '", name, "' is undefined"));
    }
    absl::StatusOr<uint8_t> code = CodeForDtype(tensor.scalar_type());
    if (!code.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint ", path, ": tensor '", name,
                                                     "': ", code.status().message()));
    }
    if (tensor.dim() > kMaxRank) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint ", path, ": tensor '", name,
                                                     "' has rank ", tensor.dim()));
    }
    torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t offset = AlignUp(payload_len);
    const uint64_t nbytes = t.numel() * t.element_size();
    h.Put<uint32_t>(static_cast<uint32_t>(name.size()));
    h.PutBytes(name);
    h.Put<uint8_t>(*code);
    h.Put<uint8_t>(static_cast<uint8_t>(t.dim()));
    for (int64_t d : t.sizes()) h.Put<int64_t>(d);
    h.Put<uint64_t>(offset);
    h.Put<uint64_t>(nbytes);
    payload_len = offset + nbytes;
    tensors.emplace_back(&name, std::move(t));
  }
  const std::string& header = h.bytes();
  if (header.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint ", path, ": header too large"));
  }

  // Payload CRC, computed in file order including zero padding.
  static const char kZeros[kAlignment] = {};
  uint32_t payload_crc = Crc32(0, nullptr, 0);
  uint64_t cursor = 0;
  for (const auto& [name, t] : tensors) {
    const uint64_t offset = AlignUp(cursor);
    payload_crc = Crc32(payload_crc, kZeros, offset - cursor);
    const uint64_t nbytes = t.numel() * t.element_size();
    payload_crc = Crc32(payload_crc, t.data_ptr(), nbytes);
    cursor = offset + nbytes;
  }

  Writer pre;
  pre.PutBytes(std::string(kMagic, sizeof(kMagic)));
  pre.Put<uint32_t>(kFormatVersion);
  pre.Put<uint32_t>(static_cast<uint32_t>(header.size()));
  pre.Put<uint64_t>(payload_len);
  pre.Put<uint32_t>(Crc32(0, header.data(), header.size()));
  pre.Put<uint32_t>(payload_crc);

  const std::string dir = DirName(path);
  std::string tmp = TemporaryCheckpointTemplate(path);
  Fd fd(::mkstemp(tmp.data()));
  if (fd.get() < 0) {
    return absl::InternalError(
        absl::StrCat("creating temporary file for checkpoint ", path, ": ", ErrnoText()));
  }
  auto fail = [&tmp](absl::Status s) {
    ::unlink(tmp.c_str());
    return s;
  };
  absl::Status s = WriteAll(fd.get(), pre.bytes().data(), pre.bytes().size(), tmp);
  if (s.ok()) s = WriteAll(fd.get(), header.data(), header.size(), tmp);
  if (s.ok()) {
    s = WriteAll(fd.get(), kZeros, AlignUp(kPreambleSize + header.size()) -
                                       (kPreambleSize + header.size()), tmp);
  }
  cursor = 0;
  for (const auto& [name, t] : tensors) {
    if (!s.ok()) break;
    const uint64_t offset = AlignUp(cursor);
    s = WriteAll(fd.get(), kZeros, offset - cursor, tmp);
    const uint64_t nbytes = t.numel() * t.element_size();
    if (s.ok()) s = WriteAll(fd.get(), t.data_ptr(), nbytes, tmp);
    cursor = offset + nbytes;
  }
  if (!s.ok()) return fail(s);
  if (::fsync(fd.get()) != 0) {
    return fail(absl::InternalError(absl::StrCat("fsync of ", tmp, ": ", ErrnoText())));
  }
  if (::close(fd.release()) != 0) {
    return fail(absl::InternalError(absl::StrCat("closing ", tmp, ": ", ErrnoText())));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(absl::InternalError(
        absl::StrCat("renaming ", tmp, " to ", path, ": ", ErrnoText())));
  }
  return FsyncDirectory(dir);
}

}  // namespace

absl::Status SaveCheckpoint(const std::string& path, const Checkpoint& checkpoint) {
  try {
    return SaveCheckpointOrThrow(path, checkpoint);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("saving checkpoint ", path, ": ", e.what()));
  }
}

absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& path) {
  try {
    return LoadCheckpointOrThrow(path);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("loading checkpoint ", path, ": ", e.what()));
  }
}

absl::StatusOr<std::string> LatestCheckpoint(const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> paths, ListCheckpoints(dir));
  std::vector<std::string> skipped;
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
    absl::StatusOr<Checkpoint> loaded = LoadCheckpoint(*it);
    if (loaded.ok()) return *it;
    skipped.push_back(std::string(loaded.status().message()));
  }
  return absl::NotFoundError(absl::StrCat("no good checkpoint in ", dir,
                                          skipped.empty() ? "" : "; skipped: ",
                                          absl::StrJoin(skipped, "; ")));
}

absl::Status ExportModuleState(const torch::nn::Module& module, const std::string& prefix,
                               Checkpoint* checkpoint) {
  try {
    c10::NoGradGuard no_grad;
    for (const auto& item : module.named_parameters(/*recurse=*/true)) {
      if (!item.value().defined()) continue;
      checkpoint->tensors[prefix + item.key()] = item.value().detach().clone();
    }
    for (const auto& item : module.named_buffers(/*recurse=*/true)) {
      if (!item.value().defined()) continue;
      checkpoint->tensors[prefix + item.key()] = item.value().detach().clone();
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("exporting module state: ", e.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ImportReport> ImportModuleState(
    const std::map<std::string, torch::Tensor>& tensors, const ImportOptions& options,
    torch::nn::Module* module) {
  try {
    std::map<std::string, torch::Tensor> targets;
    for (const auto& item : module->named_parameters(/*recurse=*/true)) {
      if (item.value().defined()) targets[item.key()] = item.value();
    }
    for (const auto& item : module->named_buffers(/*recurse=*/true)) {
      if (item.value().defined()) targets[item.key()] = item.value();
    }
    ImportReport report;
    std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // dst, src
    for (const auto& [name, dst] : targets) {
      auto it = tensors.find(options.prefix + name);
      if (it == tensors.end()) {
        report.missing.push_back(name);
        continue;
      }
      const torch::Tensor& src = it->second;
      if (src.sizes() != dst.sizes()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "shape mismatch for '", options.prefix, name, "': checkpoint has [",
            absl::StrJoin(src.sizes(), ","), "], module has [",
            absl::StrJoin(dst.sizes(), ","), "]"));
      }
      copies.emplace_back(dst, src);
      report.loaded.push_back(name);
    }
    for (auto it = tensors.lower_bound(options.prefix);
         it != tensors.end() && it->first.compare(0, options.prefix.size(), options.prefix) == 0;
         ++it) {
      std::string name = it->first.substr(options.prefix.size());
      if (targets.count(name) == 0) report.unexpected.push_back(name);
    }
    if (options.strict && (!report.missing.empty() || !report.unexpected.empty())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "state does not match the module (prefix '", options.prefix, "'): missing [",
          JoinCapped(report.missing), "], unexpected [", JoinCapped(report.unexpected), "]"));
    }
    c10::NoGradGuard no_grad;
    for (auto& [dst, src] : copies) dst.copy_(src);
    return report;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("importing module state: ", e.what()));
  }
}

}  // namespace simclr::model
