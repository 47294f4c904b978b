#include "model/checkpoint/pth_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <utility>

#include <caffe2/serialize/inline_container.h>
#include <c10/core/CPUAllocator.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace simclr::model {

const PthValue* PthValue::Find(absl::string_view key) const {
  if (type != Type::kDict) return nullptr;
  for (const auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

namespace {

constexpr int kMaxRank = 16;
// Bounds on the object tree built from the pickle's object graph: memo
// references can make a DAG (or a cycle) whose tree expansion is exponential.
constexpr int kMaxDepth = 64;
constexpr int64_t kMaxTreeNodes = 10'000'000;

// What a GLOBAL names. Anything else is refused.
enum class GlobalKind { kOrderedDict, kRebuildTensorV2, kRebuildParameter, kStorageType };

// An object of the unpickler's arena. Containers refer to other objects by
// index, so shared references (memo) and cycles need no ownership graph and
// the arena frees everything without recursion.
struct Obj {
  enum class Kind {
    kNone, kBool, kInt, kFloat, kString, kTuple, kList, kDict, kTensor, kGlobal, kStorage
  };
  Kind kind = Kind::kNone;
  int64_t i = 0;  // kBool, kInt
  double f = 0.0;
  std::string s;
  std::vector<int32_t> items;                          // kTuple, kList
  std::vector<std::pair<int32_t, int32_t>> dict;       // kDict
  torch::Tensor tensor;                                // kTensor, kStorage
  GlobalKind global = GlobalKind::kOrderedDict;        // kGlobal
  torch::Dtype dtype = torch::kFloat32;                // kGlobal of kStorageType
};

struct StorageTypeName {
  const char* name;
  torch::Dtype dtype;
};
constexpr StorageTypeName kStorageTypes[] = {
    {"FloatStorage", torch::kFloat32},   {"DoubleStorage", torch::kFloat64},
    {"HalfStorage", torch::kFloat16},    {"BFloat16Storage", torch::kBFloat16},
    {"LongStorage", torch::kInt64},      {"IntStorage", torch::kInt32},
    {"ShortStorage", torch::kInt16},     {"CharStorage", torch::kInt8},
    {"ByteStorage", torch::kUInt8},      {"BoolStorage", torch::kBool},
};

class Unpickler {
 public:
  Unpickler(absl::string_view data, const PthStorageLoader& loader, const std::string& source)
      : data_(data), loader_(loader), source_(source) {}

  absl::StatusOr<PthValue> Run() {
    RETURN_IF_ERROR(Execute());
    int64_t budget = kMaxTreeNodes;
    return ToValue(result_, 0, &budget);
  }

 private:
  absl::Status Error(const std::string& what) const {
    const unsigned char op = static_cast<unsigned char>(op_);
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: pickle offset %d, opcode 0x%02x%s: %s", source_, op_pos_, op,
        (op >= 0x20 && op < 0x7f) ? absl::StrCat(" '", std::string(1, op_), "'") : "", what));
  }

  // Bounds-checked reads of the opcode arguments.
  absl::Status Take(size_t n, absl::string_view* out) {
    if (data_.size() - pos_ < n) {
      return Error(absl::StrCat("needs ", n, " more bytes, ", data_.size() - pos_, " left"));
    }
    *out = data_.substr(pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status TakeLE(size_t n, uint64_t* out) {
    absl::string_view b;
    RETURN_IF_ERROR(Take(n, &b));
    uint64_t x = 0;
    for (size_t k = 0; k < n; ++k) x |= uint64_t{static_cast<uint8_t>(b[k])} << (8 * k);
    *out = x;
    return absl::OkStatus();
  }
  absl::Status TakeLine(std::string* out) {
    size_t end = data_.find('\n', pos_);
    if (end == absl::string_view::npos) return Error("unterminated line");
    *out = std::string(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return absl::OkStatus();
  }

  int32_t New(Obj obj) {
    objs_.push_back(std::move(obj));
    return static_cast<int32_t>(objs_.size() - 1);
  }
  int32_t NewInt(int64_t v) {
    Obj o;
    o.kind = Obj::Kind::kInt;
    o.i = v;
    return New(std::move(o));
  }
  void Push(int32_t id) { stack_.push_back(id); }
  absl::StatusOr<int32_t> Pop() {
    if (stack_.size() <= Floor()) return Error("stack underflow");
    int32_t id = stack_.back();
    stack_.pop_back();
    return id;
  }
  absl::StatusOr<int32_t> Top() {
    if (stack_.size() <= Floor()) return Error("stack underflow");
    return stack_.back();
  }
  size_t Floor() const { return marks_.empty() ? 0 : marks_.back(); }
  // Pops everything above the last MARK, and the mark.
  absl::StatusOr<std::vector<int32_t>> PopMark() {
    if (marks_.empty()) return Error("no MARK on the stack");
    size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<int32_t> items(stack_.begin() + mark, stack_.end());
    stack_.resize(mark);
    return items;
  }
  int32_t NewTuple(std::vector<int32_t> items) {
    Obj o;
    o.kind = Obj::Kind::kTuple;
    o.items = std::move(items);
    return New(std::move(o));
  }

  absl::Status Execute();
  absl::Status Global();
  absl::Status Reduce();
  absl::Status PersistentId();
  absl::StatusOr<torch::Tensor> RebuildTensor(const std::vector<int32_t>& args);
  absl::StatusOr<std::vector<int64_t>> IntTuple(int32_t id, const char* what);
  absl::StatusOr<PthValue> ToValue(int32_t id, int depth, int64_t* budget);

  absl::string_view data_;
  const PthStorageLoader& loader_;
  const std::string& source_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  char op_ = 0;
  std::vector<Obj> objs_;
  std::vector<int32_t> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, int32_t> memo_;
  std::unordered_map<std::string, int32_t> storages_;  // key -> kStorage object
  int32_t result_ = -1;
};

absl::Status Unpickler::Execute() {
  while (true) {
    if (pos_ >= data_.size()) {
      op_pos_ = pos_;
      op_ = 0;
      return Error("pickle ends without STOP");
    }
    op_pos_ = pos_;
    op_ = data_[pos_++];
    switch (static_cast<unsigned char>(op_)) {
      case 0x80: {  // PROTO
        uint64_t proto;
        RETURN_IF_ERROR(TakeLE(1, &proto));
        if (proto > 5) return Error(absl::StrCat("unsupported pickle protocol ", proto));
        break;
      }
      case 0x95: {  // FRAME (protocol 4): only a length hint
        uint64_t ignored;
        RETURN_IF_ERROR(TakeLE(8, &ignored));
        break;
      }
      case '.': {  // STOP
        ASSIGN_OR_RETURN(result_, Pop());
        return absl::OkStatus();
      }
      case '(':  // MARK
        marks_.push_back(stack_.size());
        break;
      case '0': {  // POP
        ASSIGN_OR_RETURN(int32_t ignored, Pop());
        (void)ignored;
        break;
      }
      case 'N': {  // NONE
        Push(New(Obj{}));
        break;
      }
      case 0x88:    // NEWTRUE
      case 0x89: {  // NEWFALSE
        Obj o;
        o.kind = Obj::Kind::kBool;
        o.i = static_cast<unsigned char>(op_) == 0x88;
        Push(New(std::move(o)));
        break;
      }
      case 'K': {  // BININT1
        uint64_t v;
        RETURN_IF_ERROR(TakeLE(1, &v));
        Push(NewInt(static_cast<int64_t>(v)));
        break;
      }
      case 'M': {  // BININT2
        uint64_t v;
        RETURN_IF_ERROR(TakeLE(2, &v));
        Push(NewInt(static_cast<int64_t>(v)));
        break;
      }
      case 'J': {  // BININT: signed 32-bit
        uint64_t v;
        RETURN_IF_ERROR(TakeLE(4, &v));
        Push(NewInt(static_cast<int32_t>(static_cast<uint32_t>(v))));
        break;
      }
      case 0x8a: {  // LONG1: n-byte little-endian two's complement
        uint64_t n;
        RETURN_IF_ERROR(TakeLE(1, &n));
        if (n > 8) return Error(absl::StrCat("integer of ", n, " bytes does not fit in int64"));
        uint64_t v = 0;
        if (n > 0) RETURN_IF_ERROR(TakeLE(n, &v));
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);
        Push(NewInt(static_cast<int64_t>(v)));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian double
        absl::string_view b;
        RETURN_IF_ERROR(Take(8, &b));
        uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits = (bits << 8) | static_cast<uint8_t>(b[k]);
        Obj o;
        o.kind = Obj::Kind::kFloat;
        std::memcpy(&o.f, &bits, sizeof(bits));
        Push(New(std::move(o)));
        break;
      }
      case 'X':     // BINUNICODE
      case 'B':     // BINBYTES
      case 0x8c:    // SHORT_BINUNICODE
      case 'C':     // SHORT_BINBYTES
      case 'U': {   // SHORT_BINSTRING
        const bool short_len = op_ == static_cast<char>(0x8c) || op_ == 'C' || op_ == 'U';
        uint64_t n;
        RETURN_IF_ERROR(TakeLE(short_len ? 1 : 4, &n));
        absl::string_view b;
        RETURN_IF_ERROR(Take(n, &b));
        Obj o;
        o.kind = Obj::Kind::kString;
        o.s = std::string(b);
        Push(New(std::move(o)));
        break;
      }
      case '}': {  // EMPTY_DICT
        Obj o;
        o.kind = Obj::Kind::kDict;
        Push(New(std::move(o)));
        break;
      }
      case ']': {  // EMPTY_LIST
        Obj o;
        o.kind = Obj::Kind::kList;
        Push(New(std::move(o)));
        break;
      }
      case ')':  // EMPTY_TUPLE
        Push(NewTuple({}));
        break;
      case 't': {  // TUPLE
        ASSIGN_OR_RETURN(std::vector<int32_t> items, PopMark());
        Push(NewTuple(std::move(items)));
        break;
      }
      case 0x85:    // TUPLE1
      case 0x86:    // TUPLE2
      case 0x87: {  // TUPLE3
        const int n = static_cast<unsigned char>(op_) - 0x84;
        std::vector<int32_t> items(n);
        for (int k = n - 1; k >= 0; --k) {
          ASSIGN_OR_RETURN(items[k], Pop());
        }
        Push(NewTuple(std::move(items)));
        break;
      }
      case 'a': {  // APPEND
        ASSIGN_OR_RETURN(int32_t value, Pop());
        ASSIGN_OR_RETURN(int32_t list, Top());
        if (objs_[list].kind != Obj::Kind::kList) return Error("APPEND to a non-list");
        objs_[list].items.push_back(value);
        break;
      }
      case 'e': {  // APPENDS
        ASSIGN_OR_RETURN(std::vector<int32_t> values, PopMark());
        ASSIGN_OR_RETURN(int32_t list, Top());
        if (objs_[list].kind != Obj::Kind::kList) return Error("APPENDS to a non-list");
        auto& items = objs_[list].items;
        items.insert(items.end(), values.begin(), values.end());
        break;
      }
      case 's': {  // SETITEM
        ASSIGN_OR_RETURN(int32_t value, Pop());
        ASSIGN_OR_RETURN(int32_t key, Pop());
        ASSIGN_OR_RETURN(int32_t dict, Top());
        if (objs_[dict].kind != Obj::Kind::kDict) return Error("SETITEM on a non-dict");
        objs_[dict].dict.emplace_back(key, value);
        break;
      }
      case 'u': {  // SETITEMS
        ASSIGN_OR_RETURN(std::vector<int32_t> kv, PopMark());
        ASSIGN_OR_RETURN(int32_t dict, Top());
        if (objs_[dict].kind != Obj::Kind::kDict) return Error("SETITEMS on a non-dict");
        if (kv.size() % 2 != 0) return Error("SETITEMS with an odd number of items");
        for (size_t k = 0; k < kv.size(); k += 2) {
          objs_[dict].dict.emplace_back(kv[k], kv[k + 1]);
        }
        break;
      }
      case 'q':    // BINPUT
      case 'r':    // LONG_BINPUT
      case 0x94: {  // MEMOIZE
        uint64_t index = memo_.size();
        if (op_ == 'q') RETURN_IF_ERROR(TakeLE(1, &index));
        if (op_ == 'r') RETURN_IF_ERROR(TakeLE(4, &index));
        ASSIGN_OR_RETURN(int32_t top, Top());
        memo_[static_cast<uint32_t>(index)] = top;
        break;
      }
      case 'h':    // BINGET
      case 'j': {  // LONG_BINGET
        uint64_t index;
        RETURN_IF_ERROR(TakeLE(op_ == 'h' ? 1 : 4, &index));
        auto it = memo_.find(static_cast<uint32_t>(index));
        if (it == memo_.end()) return Error(absl::StrCat("memo index ", index, " is unset"));
        Push(it->second);
        break;
      }
      case 'c':
        RETURN_IF_ERROR(Global());
        break;
      case 'R':
        RETURN_IF_ERROR(Reduce());
        break;
      case 'b': {  // BUILD: object state (e.g. a state_dict's _metadata) is dropped
        ASSIGN_OR_RETURN(int32_t state, Pop());
        (void)state;
        ASSIGN_OR_RETURN(int32_t target, Top());
        const Obj::Kind kind = objs_[target].kind;
        if (kind != Obj::Kind::kDict && kind != Obj::Kind::kTensor) {
          return Error("BUILD on an object that is neither a dict nor a tensor");
        }
        break;
      }
      case 'Q':
        RETURN_IF_ERROR(PersistentId());
        break;
      default:
        return Error("unsupported opcode");
    }
  }
}

absl::Status Unpickler::Global() {
  std::string module, name;
  RETURN_IF_ERROR(TakeLine(&module));
  RETURN_IF_ERROR(TakeLine(&name));
  Obj o;
  o.kind = Obj::Kind::kGlobal;
  if (module == "collections" && name == "OrderedDict") {
    o.global = GlobalKind::kOrderedDict;
  } else if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
    o.global = GlobalKind::kRebuildTensorV2;
  } else if (module == "torch._utils" && name == "_rebuild_parameter") {
    o.global = GlobalKind::kRebuildParameter;
  } else {
    bool found = false;
    if (module == "torch") {
      for (const StorageTypeName& st : kStorageTypes) {
        if (name == st.name) {
          o.global = GlobalKind::kStorageType;
          o.dtype = st.dtype;
          found = true;
        }
      }
    }
    if (!found) return Error(absl::StrCat("unsupported global ", module, ".", name));
  }
  Push(New(std::move(o)));
  return absl::OkStatus();
}

absl::Status Unpickler::Reduce() {
  ASSIGN_OR_RETURN(int32_t args_id, Pop());
  ASSIGN_OR_RETURN(int32_t fn_id, Pop());
  if (objs_[args_id].kind != Obj::Kind::kTuple) return Error("REDUCE arguments are not a tuple");
  if (objs_[fn_id].kind != Obj::Kind::kGlobal) return Error("REDUCE of a non-callable");
  const std::vector<int32_t> args = objs_[args_id].items;
  switch (objs_[fn_id].global) {
    case GlobalKind::kOrderedDict: {
      if (!args.empty()) return Error("OrderedDict() with arguments");
      Obj o;
      o.kind = Obj::Kind::kDict;
      Push(New(std::move(o)));
      return absl::OkStatus();
    }
    case GlobalKind::kRebuildTensorV2: {
      ASSIGN_OR_RETURN(torch::Tensor t, RebuildTensor(args));
      Obj o;
      o.kind = Obj::Kind::kTensor;
      o.tensor = std::move(t);
      Push(New(std::move(o)));
      return absl::OkStatus();
    }
    case GlobalKind::kRebuildParameter: {
      // (data, requires_grad, backward_hooks): the data tensor is the value.
      if (args.size() != 3 || objs_[args[0]].kind != Obj::Kind::kTensor) {
        return Error("_rebuild_parameter expects (tensor, requires_grad, hooks)");
      }
      Push(args[0]);
      return absl::OkStatus();
    }
    case GlobalKind::kStorageType:
      return Error("calling a storage type is not supported");
  }
  return Error("unreachable");
}

absl::Status Unpickler::PersistentId() {
  ASSIGN_OR_RETURN(int32_t pid, Pop());
  const Obj& t = objs_[pid];
  // ('storage', storage_type, key, location, numel)
  if (t.kind != Obj::Kind::kTuple || t.items.size() != 5) {
    return Error("persistent id is not a 5-tuple");
  }
  const Obj& tag = objs_[t.items[0]];
  const Obj& type = objs_[t.items[1]];
  const Obj& key = objs_[t.items[2]];
  const Obj& numel = objs_[t.items[4]];
  if (tag.kind != Obj::Kind::kString || tag.s != "storage") {
    return Error("persistent id does not start with 'storage'");
  }
  if (type.kind != Obj::Kind::kGlobal || type.global != GlobalKind::kStorageType) {
    return Error("persistent id names no storage type");
  }
  if (key.kind != Obj::Kind::kString) return Error("storage key is not a string");
  if (numel.kind != Obj::Kind::kInt || numel.i < 0) return Error("storage size is invalid");
  auto it = storages_.find(key.s);
  if (it != storages_.end()) {
    const Obj& cached = objs_[it->second];
    if (cached.tensor.scalar_type() != type.dtype || cached.tensor.numel() != numel.i) {
      return Error(absl::StrCat("storage '", key.s, "' is named with two types or sizes"));
    }
    Push(it->second);
    return absl::OkStatus();
  }
  absl::StatusOr<torch::Tensor> storage = loader_(key.s, type.dtype, numel.i);
  if (!storage.ok()) return storage.status();
  if (!storage->defined() || storage->dim() != 1 || storage->numel() != numel.i ||
      storage->scalar_type() != type.dtype) {
    return Error(absl::StrCat("storage '", key.s, "' was loaded with the wrong shape or type"));
  }
  Obj o;
  o.kind = Obj::Kind::kStorage;
  o.tensor = *std::move(storage);
  const std::string name = key.s;
  int32_t id = New(std::move(o));
  storages_[name] = id;
  Push(id);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> Unpickler::IntTuple(int32_t id, const char* what) {
  const Obj& t = objs_[id];
  if (t.kind != Obj::Kind::kTuple) return Error(absl::StrCat(what, " is not a tuple"));
  if (t.items.size() > kMaxRank) return Error(absl::StrCat(what, " has too many dims"));
  std::vector<int64_t> out;
  for (int32_t item : t.items) {
    const Obj& v = objs_[item];
    if (v.kind != Obj::Kind::kInt || v.i < 0) {
      return Error(absl::StrCat(what, " holds a non-integer or negative value"));
    }
    out.push_back(v.i);
  }
  return out;
}

absl::StatusOr<torch::Tensor> Unpickler::RebuildTensor(const std::vector<int32_t>& args) {
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  if (args.size() != 6 && args.size() != 7) {
    return Error(absl::StrCat("_rebuild_tensor_v2 expects 6 or 7 arguments, got ", args.size()));
  }
  const Obj& storage = objs_[args[0]];
  const Obj& offset = objs_[args[1]];
  if (storage.kind != Obj::Kind::kStorage) return Error("tensor storage is not a storage");
  if (offset.kind != Obj::Kind::kInt || offset.i < 0) return Error("tensor offset is invalid");
  ASSIGN_OR_RETURN(std::vector<int64_t> sizes, IntTuple(args[2], "tensor size"));
  ASSIGN_OR_RETURN(std::vector<int64_t> strides, IntTuple(args[3], "tensor stride"));
  if (sizes.size() != strides.size()) return Error("tensor size and stride differ in rank");
  // The largest element index must lie inside the storage (overflow-safe).
  const uint64_t numel = static_cast<uint64_t>(storage.tensor.numel());
  bool empty = false;
  uint64_t last = static_cast<uint64_t>(offset.i);
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 0) empty = true;
  }
  if (!empty) {
    for (size_t d = 0; d < sizes.size(); ++d) {
      const uint64_t extent = static_cast<uint64_t>(sizes[d] - 1);
      const uint64_t stride = static_cast<uint64_t>(strides[d]);
      if (stride != 0 && extent > (numel - std::min(numel, last)) / stride) {
        return Error("tensor view reaches past the end of its storage");
      }
      last += extent * stride;
    }
    if (last >= numel) return Error("tensor view reaches past the end of its storage");
  } else if (static_cast<uint64_t>(offset.i) > numel) {
    return Error("tensor offset lies past the end of its storage");
  }
  return storage.tensor.as_strided(sizes, strides, offset.i);
}

absl::StatusOr<PthValue> Unpickler::ToValue(int32_t id, int depth, int64_t* budget) {
  if (depth > kMaxDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": objects nested deeper than ", kMaxDepth, " (or a cycle)"));
  }
  if (--*budget < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": object tree larger than ", kMaxTreeNodes, " nodes"));
  }
  const Obj& o = objs_[id];
  PthValue v;
  switch (o.kind) {
    case Obj::Kind::kNone:
      break;
    case Obj::Kind::kBool:
      v.type = PthValue::Type::kBool;
      v.bool_value = o.i != 0;
      break;
    case Obj::Kind::kInt:
      v.type = PthValue::Type::kInt;
      v.int_value = o.i;
      break;
    case Obj::Kind::kFloat:
      v.type = PthValue::Type::kFloat;
      v.float_value = o.f;
      break;
    case Obj::Kind::kString:
      v.type = PthValue::Type::kString;
      v.string_value = o.s;
      break;
    case Obj::Kind::kTensor:
      v.type = PthValue::Type::kTensor;
      v.tensor = o.tensor;
      break;
    case Obj::Kind::kTuple:
    case Obj::Kind::kList:
      v.type = PthValue::Type::kList;
      for (int32_t item : o.items) {
        ASSIGN_OR_RETURN(PthValue child, ToValue(item, depth + 1, budget));
        v.items.push_back(std::move(child));
      }
      break;
    case Obj::Kind::kDict:
      v.type = PthValue::Type::kDict;
      for (const auto& [k, val] : o.dict) {
        std::string key;
        if (objs_[k].kind == Obj::Kind::kString) {
          key = objs_[k].s;
        } else if (objs_[k].kind == Obj::Kind::kInt) {
          key = absl::StrCat(objs_[k].i);
        } else {
          return absl::InvalidArgumentError(
              absl::StrCat(source_, ": dict key that is neither a string nor an integer"));
        }
        ASSIGN_OR_RETURN(PthValue child, ToValue(val, depth + 1, budget));
        v.entries.emplace_back(std::move(key), std::move(child));
      }
      break;
    case Obj::Kind::kGlobal:
    case Obj::Kind::kStorage:
      return absl::InvalidArgumentError(
          absl::StrCat(source_, ": a bare class or storage where a value was expected"));
  }
  return v;
}

absl::StatusOr<PthValue> ReadPthOrThrow(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("PyTorch file ", path, " does not exist"));
  }
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const std::exception& e) {
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is not a zip-format torch.save file (files from PyTorch < 1.6 or saved with "
              "_use_new_zipfile_serialization=False are not supported): ",
        what));
  }
  if (!reader->hasRecord("data.pkl")) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no data.pkl record in the archive"));
  }
  at::DataPtr pickle_data;
  size_t pickle_size = 0;
  std::tie(pickle_data, pickle_size) = reader->getRecord("data.pkl");

  PthStorageLoader loader = [&reader, &path](const std::string& key, torch::Dtype dtype,
                                             int64_t numel) -> absl::StatusOr<torch::Tensor> {
    const std::string record = "data/" + key;
    if (!reader->hasRecord(record)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": storage record ", record, " is missing"));
    }
    at::DataPtr ptr;
    size_t size = 0;
    std::tie(ptr, size) = reader->getRecord(record);
    const uint64_t elem = c10::elementSize(dtype);
    if (static_cast<uint64_t>(numel) > size / elem) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": storage record ", record, " has ", size,
                       " bytes, its tensor needs ", numel, " x ", elem));
    }
    void* raw = ptr.get();
    // The tensor owns the record's buffer.
    auto owner = std::make_shared<at::DataPtr>(std::move(ptr));
    return torch::from_blob(
        raw, {numel}, [owner](void*) mutable { owner.reset(); },
        torch::TensorOptions().dtype(dtype));
  };
  absl::string_view pickle(static_cast<const char*>(pickle_data.get()), pickle_size);
  return Unpickler(pickle, loader, path).Run();
}

}  // namespace

absl::StatusOr<PthValue> ParsePthPickle(absl::string_view pickle,
                                        const PthStorageLoader& load_storage,
                                        const std::string& source) {
  try {
    return Unpickler(pickle, load_storage, source).Run();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(source, ": ", e.what()));
  }
}

absl::StatusOr<PthValue> ReadPth(const std::string& path) {
  try {
    return ReadPthOrThrow(path);
  } catch (const std::exception& e) {
    std::string what = e.what();
    return absl::InvalidArgumentError(
        absl::StrCat("reading ", path, ": ", what.substr(0, what.find('\n'))));
  }
}

absl::StatusOr<std::vector<std::pair<std::string, torch::Tensor>>> FlattenTensorDict(
    const PthValue& dict, const std::string& prefix) {
  if (dict.type != PthValue::Type::kDict) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", prefix, "' is not a dict of tensors"));
  }
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& [key, value] : dict.entries) {
    const std::string name = prefix + key;
    if (value.type == PthValue::Type::kTensor) {
      out.emplace_back(name, value.tensor);
    } else if (value.type == PthValue::Type::kDict) {
      ASSIGN_OR_RETURN(auto nested, FlattenTensorDict(value, name + "."));
      for (auto& item : nested) out.push_back(std::move(item));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("'", name, "' is neither a tensor nor a dict"));
    }
  }
  return out;
}

}  // namespace simclr::model
