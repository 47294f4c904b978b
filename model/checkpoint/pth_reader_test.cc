#include "model/checkpoint/pth_reader.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace simclr::model {
namespace {

using namespace std::string_literals;

// Files written once per test binary by testdata/make_pth.py (PyTorch's own
// torch.save under /usr/bin/python3).
class PthReaderTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(absl::StrCat(testing::TempDir(), "/pth"));
    const std::string script = absl::StrCat(std::getenv("TEST_SRCDIR"),
                                            "/simclr/model/checkpoint/testdata/make_pth.py");
    const std::string cmd = absl::StrCat("mkdir -p ", *dir_, " && /usr/bin/python3 ", script,
                                         " ", *dir_);
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static std::string Path(const std::string& name) { return *dir_ + "/" + name; }
  static std::string* dir_;
};
std::string* PthReaderTest::dir_ = nullptr;

struct Expected {
  std::string name;
  std::string dtype;
  torch::Tensor values;  // float64, in the expected shape
};

std::vector<Expected> ReadExpected(const std::string& path) {
  std::vector<Expected> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Expected e;
    int rank = 0;
    fields >> e.name >> e.dtype >> rank;
    std::vector<int64_t> dims(rank);
    for (int64_t& d : dims) fields >> d;
    std::vector<double> values;
    double v;
    while (fields >> v) values.push_back(v);
    e.values = torch::tensor(values, torch::kFloat64).reshape(dims);
    out.push_back(e);
  }
  return out;
}

std::string DtypeName(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kFloat32: return "float32";
    case torch::kFloat64: return "float64";
    case torch::kFloat16: return "float16";
    case torch::kBFloat16: return "bfloat16";
    case torch::kInt64: return "int64";
    case torch::kInt32: return "int32";
    case torch::kUInt8: return "uint8";
    case torch::kBool: return "bool";
    default: return "other";
  }
}

// Every tensor leaf of `file` equals (name, dtype, shape, values) what Python
// recorded, in the same order.
void ExpectMatchesPython(const std::string& file, const std::string& expected_file) {
  absl::StatusOr<PthValue> root = ReadPth(file);
  ASSERT_TRUE(root.ok()) << root.status();
  absl::StatusOr<std::vector<std::pair<std::string, torch::Tensor>>> flat =
      FlattenTensorDict(*root, "");
  ASSERT_TRUE(flat.ok()) << flat.status();
  std::vector<Expected> expected = ReadExpected(expected_file);
  ASSERT_FALSE(expected.empty());
  ASSERT_EQ(flat->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& [name, tensor] = (*flat)[i];
    EXPECT_EQ(name, expected[i].name);
    EXPECT_EQ(DtypeName(tensor.scalar_type()), expected[i].dtype) << name;
    EXPECT_EQ(tensor.sizes(), expected[i].values.sizes()) << name;
    EXPECT_TRUE(torch::equal(tensor.to(torch::kFloat64), expected[i].values)) << name;
  }
}

TEST_F(PthReaderTest, ReadsAStateDictWithBatchNormLikePyTorchWroteIt) {
  ExpectMatchesPython(Path("state_dict.pth"), Path("state_dict.expected"));
  absl::StatusOr<PthValue> root = ReadPth(Path("state_dict.pth"));
  ASSERT_TRUE(root.ok());
  const PthValue* tracked = root->Find("1.num_batches_tracked");
  ASSERT_NE(tracked, nullptr);
  EXPECT_EQ(tracked->tensor.scalar_type(), torch::kInt64);
  EXPECT_EQ(tracked->tensor.item<int64_t>(), 1);
}

TEST_F(PthReaderTest, ReadsNestedResnetAndHeadDicts) {
  ExpectMatchesPython(Path("nested.pth"), Path("nested.expected"));
  absl::StatusOr<PthValue> root = ReadPth(Path("nested.pth"));
  ASSERT_TRUE(root.ok());
  ASSERT_EQ(root->entries.size(), 2u);
  EXPECT_EQ(root->entries[0].first, "resnet");
  EXPECT_EQ(root->entries[1].first, "head");
  ASSERT_NE(root->Find("head"), nullptr);
  EXPECT_NE(root->Find("head")->Find("1.running_var"), nullptr);
}

TEST_F(PthReaderTest, ReadsViewsWithOffsetsAndStridesAndEveryDtype) {
  ExpectMatchesPython(Path("views.pth"), Path("views.expected"));
}

TEST_F(PthReaderTest, ViewsShareTheirStorageAsInPython) {
  absl::StatusOr<PthValue> root = ReadPth(Path("views.pth"));
  ASSERT_TRUE(root.ok()) << root.status();
  torch::Tensor base = root->Find("base")->tensor;
  torch::Tensor view = root->Find("view")->tensor;
  EXPECT_EQ(view.storage_offset(), 7);
  EXPECT_EQ(view.strides(), (std::vector<int64_t>{5, 1}));
  base[1][2].fill_(100.0f);
  EXPECT_EQ(view[0][0].item<float>(), 100.0f);
}

TEST_F(PthReaderTest, ReadsScalarsStringsListsAndIntegerKeys) {
  absl::StatusOr<PthValue> root = ReadPth(Path("misc.pth"));
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->Find("epoch")->int_value, 5);
  EXPECT_DOUBLE_EQ(root->Find("lr")->float_value, 0.1);
  EXPECT_EQ(root->Find("name")->string_value, "r50");
  EXPECT_EQ(root->Find("big")->int_value, int64_t{1} << 40);
  EXPECT_EQ(root->Find("neg")->int_value, -3);
  EXPECT_EQ(root->Find("mid")->int_value, 40000);
  EXPECT_EQ(root->Find("wide")->int_value, -(int64_t{1} << 31) - 5);
  const PthValue* flags = root->Find("flags");
  ASSERT_EQ(flags->items.size(), 3u);
  EXPECT_TRUE(flags->items[0].bool_value);
  EXPECT_EQ(flags->items[1].type, PthValue::Type::kBool);
  EXPECT_FALSE(flags->items[1].bool_value);
  EXPECT_EQ(flags->items[2].type, PthValue::Type::kNone);
  ASSERT_EQ(root->Find("pair")->items.size(), 2u);
  EXPECT_EQ(root->Find("pair")->items[1].int_value, 2);
  ASSERT_NE(root->Find("by_index")->Find("1"), nullptr);
  EXPECT_EQ(root->Find("by_index")->Find("0")->tensor.item<float>(), 1.0f);
}

TEST_F(PthReaderTest, FlattenRejectsNonTensorLeavesNamingThem) {
  absl::StatusOr<PthValue> root = ReadPth(Path("misc.pth"));
  ASSERT_TRUE(root.ok());
  absl::StatusOr<std::vector<std::pair<std::string, torch::Tensor>>> flat =
      FlattenTensorDict(*root, "");
  ASSERT_FALSE(flat.ok());
  EXPECT_TRUE(absl::StrContains(flat.status().message(), "'epoch'")) << flat.status();
}

TEST_F(PthReaderTest, TruncatedZipIsAnErrorNamingTheFile) {
  absl::StatusOr<PthValue> root = ReadPth(Path("truncated.pth"));
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(root.status().message(), Path("truncated.pth")))
      << root.status();
}

TEST_F(PthReaderTest, GarbagePickleIsAnErrorNamingFileOffsetAndOpcode) {
  absl::StatusOr<PthValue> root = ReadPth(Path("garbage_pickle.pth"));
  ASSERT_FALSE(root.ok());
  EXPECT_TRUE(absl::StrContains(root.status().message(), Path("garbage_pickle.pth")))
      << root.status();
  // BINUNICODE at offset 6 claims 2^31-1 bytes.
  EXPECT_TRUE(absl::StrContains(root.status().message(), "offset 6, opcode 0x58 'X'"))
      << root.status();
}

TEST_F(PthReaderTest, MissingStorageRecordIsAnError) {
  absl::StatusOr<PthValue> root = ReadPth(Path("missing_storage.pth"));
  ASSERT_FALSE(root.ok());
  EXPECT_TRUE(absl::StrContains(root.status().message(), "data/0 is missing")) << root.status();
}

TEST(PthReaderFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadPth("/nonexistent/x.pth").status().code(), absl::StatusCode::kNotFound);
}

// A loader for pickles that name storages: `numel` floats counting up.
absl::StatusOr<torch::Tensor> CountingStorage(const std::string&, torch::Dtype dtype,
                                              int64_t numel) {
  return torch::arange(numel, torch::TensorOptions().dtype(dtype));
}

absl::Status Parse(const std::string& bytes) {
  return ParsePthPickle(bytes, CountingStorage, "in-memory").status();
}

TEST(ParsePthPickleTest, RefusesGlobalsOutsideTheAllowList) {
  absl::Status s = Parse("\x80\x02" "cos\nsystem\n" "X\x02\x00\x00\x00ls\x85R."s);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "unsupported global os.system")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "offset 2")) << s;
}

TEST(ParsePthPickleTest, MalformedInputsAreErrorsNotCrashes) {
  const std::vector<std::string> inputs = {
      ""s,                                  // no STOP
      std::string("\x80\x02", 2),                       // no STOP
      "."s,                                 // STOP on an empty stack
      "s."s,                                // SETITEM underflow
      "(."s,                                // STOP on an empty mark
      "t."s,                                // TUPLE without MARK
      "h\x05."s,                            // memo miss
      "]K\x01s."s,                          // SETITEM on a list
      "}K\x01" "a."s,                       // APPEND to a dict
      "\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00."s,  // LONG1 of 9 bytes
      "X\x10\x00\x00\x00short."s,           // string past the end
      "ctorch\nFloatStorage"s,              // unterminated GLOBAL line
      "\xff."s,                             // unknown opcode
      "\x80\x09."s,                         // unknown protocol
      "K\x01K\x02R."s,                      // REDUCE of a non-callable
      "K\x01Q."s,                           // persistent id not a tuple
  };
  for (const std::string& in : inputs) {
    absl::Status s = Parse(in);
    EXPECT_FALSE(s.ok()) << testing::PrintToString(in);
    EXPECT_TRUE(absl::StrContains(s.message(), "in-memory")) << s;
  }
}

// ('storage', torch.FloatStorage, '0', 'cpu', 4) as a persistent id, then
// _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()).
std::string TensorPickle(int offset, int size, int stride) {
  std::string p = "\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n" "(" "("s;
  p += "X\x07\x00\x00\x00storage"s;
  p += "ctorch\nFloatStorage\n"s;
  p += "X\x01\x00\x00\x00" "0"s;
  p += "X\x03\x00\x00\x00" "cpu"s;
  p += "K\x04" "tQ"s;
  p += "K" + std::string(1, static_cast<char>(offset));
  p += "K" + std::string(1, static_cast<char>(size)) + "\x85";
  p += "K" + std::string(1, static_cast<char>(stride)) + "\x85";
  p += "\x89" "ccollections\nOrderedDict\n)R" "tR."s;
  return p;
}

TEST(ParsePthPickleTest, BuildsAStridedViewInsideItsStorage) {
  absl::StatusOr<PthValue> v = ParsePthPickle(TensorPickle(1, 2, 2), CountingStorage, "m");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->type, PthValue::Type::kTensor);
  EXPECT_TRUE(torch::equal(v->tensor, torch::tensor({1.0f, 3.0f})));
}

TEST(ParsePthPickleTest, RejectsViewsReachingPastTheStorage) {
  for (auto [offset, size, stride] : {std::tuple{0, 5, 1}, {1, 4, 1}, {0, 3, 2}, {4, 1, 1},
                                      {0, 200, 200}}) {
    absl::Status s = Parse(TensorPickle(offset, size, stride));
    EXPECT_FALSE(s.ok()) << offset << " " << size << " " << stride;
    EXPECT_TRUE(absl::StrContains(s.message(), "past the end")) << s;
  }
}

TEST(ParsePthPickleTest, EveryTruncationAndSingleByteMutationIsHandled) {
  const std::string good = TensorPickle(1, 2, 2);
  int errors = 0;
  for (size_t n = 0; n < good.size(); ++n) {
    absl::Status s = Parse(good.substr(0, n));
    EXPECT_FALSE(s.ok()) << "prefix of " << n << " bytes";
    errors += !s.ok();
  }
  for (size_t i = 0; i < good.size(); ++i) {
    for (int delta : {1, 0x40, 0x80, 0xff}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] + delta);
      // Either a value or an error; the point is that neither crashes.
      absl::StatusOr<PthValue> v = ParsePthPickle(bad, CountingStorage, "mutated");
      if (!v.ok()) {
        ++errors;
        EXPECT_TRUE(absl::StrContains(v.status().message(), "mutated")) << v.status();
      }
    }
  }
  EXPECT_GT(errors, static_cast<int>(good.size()));
}

TEST(ParsePthPickleTest, RejectsCyclesWhenBuildingTheTree) {
  // l = []; l.append(l)
  absl::Status s = Parse("]q\x00h\x00" "a."s);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "cycle")) << s;
}

}  // namespace
}  // namespace simclr::model
