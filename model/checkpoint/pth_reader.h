// Reads PyTorch `.pth` files written by torch.save (the zip format, PyTorch
// >= 1.6) without Python: state_dicts, nested dicts of state_dicts, lists.
//
// A torch.save file is a zip archive `<archive>/data.pkl` (a pickle, protocol
// 2) plus one record `<archive>/data/<key>` per tensor storage. LibTorch's own
// torch::pickle_load cannot read dicts or lists, so the pickle is read here by
// a small, bounds-checked unpickler that understands only what torch.save
// emits: containers, scalars, strings, `collections.OrderedDict`,
// `torch._utils._rebuild_tensor_v2`, `torch._utils._rebuild_parameter` and the
// persistent ids ('storage', torch.<Type>Storage, key, location, numel) that
// name storage records. Any other GLOBAL is refused (nothing is executed), and
// every malformed input is a Status naming the file, the byte offset and the
// opcode: never a crash. Lengths are checked against the bytes left before
// anything is allocated, so memory stays proportional to the input (plus the
// storages it names, which the loader checks against their records).
//
// Tensors come back on the CPU as views of their storage record (no copy);
// tensors that shared a storage in Python share it here too.
//
//   ASSIGN_OR_RETURN(PthValue root, ReadPth("r50_1x_sk0.pth"));
//   ASSIGN_OR_RETURN(auto resnet, FlattenTensorDict(*root.Find("resnet"), ""));
#ifndef SIMCLR_MODEL_CHECKPOINT_PTH_READER_H_
#define SIMCLR_MODEL_CHECKPOINT_PTH_READER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace simclr::model {

// One value of the unpickled object tree. A value type.
struct PthValue {
  enum class Type { kNone, kBool, kInt, kFloat, kString, kTensor, kList, kDict };

  Type type = Type::kNone;
  bool bool_value = false;
  int64_t int_value = 0;
  double float_value = 0.0;
  std::string string_value;  // kString (also bytes)
  torch::Tensor tensor;      // kTensor
  std::vector<PthValue> items;  // kList: Python lists and tuples
  // kDict (dict and OrderedDict), in insertion order. Integer keys (as in
  // optimiser state_dicts) appear as their decimal text.
  std::vector<std::pair<std::string, PthValue>> entries;

  // The entry named `key` of a kDict, or nullptr (also for non-dicts).
  const PthValue* Find(absl::string_view key) const;
};

// Returns a 1-D tensor of `numel` elements of `dtype` for storage record
// `key`. Errors are passed through ReadPth's Status.
using PthStorageLoader = std::function<absl::StatusOr<torch::Tensor>(
    const std::string& key, torch::Dtype dtype, int64_t numel)>;

// Unpickles `pickle` (the bytes of data.pkl). `source` names the input in
// error messages. Errors: InvalidArgument naming source, offset and opcode for
// malformed or unsupported input; the loader's errors as they are. This is the
// entry point to fuzz: it touches no files.
absl::StatusOr<PthValue> ParsePthPickle(absl::string_view pickle,
                                        const PthStorageLoader& load_storage,
                                        const std::string& source);

// Reads a torch.save file. Errors name `path`: NotFound (no file),
// InvalidArgument (not a zip-format torch.save file, malformed pickle, a
// storage record missing or shorter than its tensor needs). Thread-compatible.
absl::StatusOr<PthValue> ReadPth(const std::string& path);

// Flattens a kDict whose leaves are tensors ({'a': {'b': t}} -> "a.b": t), in
// insertion order, prepending `prefix` to every name. InvalidArgument naming
// the key when a leaf is not a tensor or `dict` is not a kDict.
absl::StatusOr<std::vector<std::pair<std::string, torch::Tensor>>> FlattenTensorDict(
    const PthValue& dict, const std::string& prefix);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_CHECKPOINT_PTH_READER_H_
