#include "model/checkpoint/checkpoint.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace simclr::model {
namespace {

std::string FreshDir(const std::string& name) {
  std::string dir = absl::StrCat(testing::TempDir(), "/", name);
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Checkpoint MakeCheckpoint(int64_t step) {
  Checkpoint c;
  c.step = step;
  c.epoch = 3;
  c.metadata = std::string("{\"kind\":\"pretrain\"}\0binary\xff", 27);
  c.tensors["encoder.conv.weight"] =
      torch::arange(0, 24, torch::kFloat32).reshape({2, 3, 4}) * 0.37f;
  c.tensors["encoder.bn.num_batches_tracked"] =
      torch::tensor({int64_t{1} << 40}, torch::kInt64).reshape({});
  c.tensors["head.w_bf16"] = torch::tensor({1.5f, -2.25f, 1e-3f}).to(torch::kBFloat16);
  c.tensors["opt.momentum.f64"] = torch::tensor({1.0 / 3.0, -7.0}, torch::kFloat64);
  c.tensors["mask"] = torch::tensor({true, false, true});
  c.tensors["empty"] = torch::zeros({0, 5});
  // Non-contiguous input: saved as its contiguous values.
  c.tensors["transposed"] = torch::arange(0, 6, torch::kFloat32).reshape({2, 3}).t();
  return c;
}

TEST(CheckpointTest, RoundTripPreservesValuesDtypesStepAndMetadata) {
  const std::string path = FreshDir("roundtrip") + "/ckpt-7.simclr";
  const Checkpoint original = MakeCheckpoint(7);
  ASSERT_TRUE(SaveCheckpoint(path, original).ok());

  absl::StatusOr<Checkpoint> loaded = LoadCheckpoint(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->step, 7);
  EXPECT_EQ(loaded->epoch, 3);
  EXPECT_EQ(loaded->metadata, original.metadata);
  ASSERT_EQ(loaded->tensors.size(), original.tensors.size());
  for (const auto& [name, want] : original.tensors) {
    ASSERT_EQ(loaded->tensors.count(name), 1u) << name;
    const torch::Tensor& got = loaded->tensors.at(name);
    EXPECT_EQ(got.scalar_type(), want.scalar_type()) << name;
    EXPECT_EQ(got.sizes(), want.sizes()) << name;
    EXPECT_TRUE(torch::equal(got, want.contiguous())) << name;
  }
  EXPECT_EQ(loaded->tensors.at("encoder.bn.num_batches_tracked").item<int64_t>(),
            int64_t{1} << 40);
}

TEST(CheckpointTest, LoadedTensorsDoNotAliasEachOther) {
  const std::string path = FreshDir("alias") + "/ckpt-1.simclr";
  ASSERT_TRUE(SaveCheckpoint(path, MakeCheckpoint(1)).ok());
  absl::StatusOr<Checkpoint> loaded = LoadCheckpoint(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  loaded->tensors.at("opt.momentum.f64").fill_(0.0);
  EXPECT_FLOAT_EQ(loaded->tensors.at("encoder.conv.weight")[0][0][1].item<float>(), 0.37f);
}

TEST(CheckpointTest, MissingFileIsNotFound) {
  absl::StatusOr<Checkpoint> loaded = LoadCheckpoint(FreshDir("missing") + "/ckpt-1.simclr");
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
}

TEST(CheckpointTest, TruncatedFileIsDataLossNamingTheFile) {
  const std::string path = FreshDir("truncated") + "/ckpt-2.simclr";
  ASSERT_TRUE(SaveCheckpoint(path, MakeCheckpoint(2)).ok());
  const std::string bytes = ReadBytes(path);
  for (size_t keep : {size_t{0}, size_t{10}, size_t{40}, bytes.size() / 2, bytes.size() - 1}) {
    WriteBytes(path, bytes.substr(0, keep));
    absl::StatusOr<Checkpoint> loaded = LoadCheckpoint(path);
    ASSERT_FALSE(loaded.ok()) << "kept " << keep;
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << loaded.status();
    EXPECT_TRUE(absl::StrContains(loaded.status().message(), path)) << loaded.status();
  }
}

TEST(CheckpointTest, FlippedPayloadByteFailsTheChecksum) {
  const std::string path = FreshDir("flipped") + "/ckpt-3.simclr";
  ASSERT_TRUE(SaveCheckpoint(path, MakeCheckpoint(3)).ok());
  std::string bytes = ReadBytes(path);
  bytes[bytes.size() - 20] ^= 0x01;
  WriteBytes(path, bytes);
  absl::StatusOr<Checkpoint> loaded = LoadCheckpoint(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(loaded.status().message(), "payload checksum"))
      << loaded.status();
  EXPECT_TRUE(absl::StrContains(loaded.status().message(), path));
}

TEST(CheckpointTest, FlippedHeaderByteFailsTheChecksum) {
  const std::string path = FreshDir("flipped_header") + "/ckpt-3.simclr";
  ASSERT_TRUE(SaveCheckpoint(path, MakeCheckpoint(3)).ok());
  std::string bytes = ReadBytes(path);
  bytes[32] ^= 0x01;  // the low byte of `step`
  WriteBytes(path, bytes);
  absl::StatusOr<Checkpoint> loaded = LoadCheckpoint(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(absl::StrContains(loaded.status().message(), "header checksum"))
      << loaded.status();
}

TEST(CheckpointTest, WrongMagicIsRejectedNamingTheFile) {
  const std::string path = FreshDir("magic") + "/ckpt-4.simclr";
  ASSERT_TRUE(SaveCheckpoint(path, MakeCheckpoint(4)).ok());
  std::string bytes = ReadBytes(path);
  bytes[0] = 'X';
  WriteBytes(path, bytes);
  absl::StatusOr<Checkpoint> loaded = LoadCheckpoint(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(loaded.status().message(), "magic")) << loaded.status();
  EXPECT_TRUE(absl::StrContains(loaded.status().message(), path));
}

TEST(CheckpointTest, SaveReplacesAnExistingFileAndLeavesNoTemporaries) {
  const std::string dir = FreshDir("replace");
  const std::string path = dir + "/ckpt-5.simclr";
  ASSERT_TRUE(SaveCheckpoint(path, MakeCheckpoint(1)).ok());
  Checkpoint second = MakeCheckpoint(5);
  second.metadata = "second";
  ASSERT_TRUE(SaveCheckpoint(path, second).ok());
  absl::StatusOr<Checkpoint> loaded = LoadCheckpoint(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->metadata, "second");
  EXPECT_EQ(loaded->step, 5);
  absl::StatusOr<std::vector<std::string>> listed = ListCheckpoints(dir);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, std::vector<std::string>{path});
}

TEST(CheckpointTest, ListingSortsByStepAndIgnoresTemporariesAndForeignFiles) {
  const std::string dir = FreshDir("list");
  for (int64_t step : {100, 9, 20}) {
    ASSERT_TRUE(SaveCheckpoint(dir + "/" + CheckpointFileName(step), MakeCheckpoint(step)).ok());
  }
  WriteBytes(dir + "/.ckpt-300.simclr.tmp.abc123", "half-written");
  WriteBytes(dir + "/ckpt-x.simclr", "foreign");
  WriteBytes(dir + "/notes.txt", "foreign");
  absl::StatusOr<std::vector<std::string>> listed = ListCheckpoints(dir);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (std::vector<std::string>{dir + "/ckpt-9.simclr", dir + "/ckpt-20.simclr",
                                               dir + "/ckpt-100.simclr"}));
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(*latest, dir + "/ckpt-100.simclr");
}

TEST(CheckpointTest, LatestSkipsACorruptNewestCheckpoint) {
  const std::string dir = FreshDir("latest");
  ASSERT_TRUE(SaveCheckpoint(dir + "/ckpt-10.simclr", MakeCheckpoint(10)).ok());
  ASSERT_TRUE(SaveCheckpoint(dir + "/ckpt-20.simclr", MakeCheckpoint(20)).ok());
  std::string bytes = ReadBytes(dir + "/ckpt-20.simclr");
  WriteBytes(dir + "/ckpt-20.simclr", bytes.substr(0, bytes.size() - 3));
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, dir + "/ckpt-10.simclr");
}

TEST(CheckpointTest, LatestInADirectoryWithoutGoodCheckpointsIsNotFound) {
  const std::string dir = FreshDir("none_good");
  WriteBytes(dir + "/ckpt-1.simclr", "garbage");
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir);
  EXPECT_EQ(latest.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(latest.status().message(), dir + "/ckpt-1.simclr"))
      << latest.status();
}

// Two parameters, a buffer and a child module: names "w", "b", "child.v",
// "child.count".
struct Child : torch::nn::Module {
  Child() {
    v = register_parameter("v", torch::zeros({4}));
    count = register_buffer("count", torch::zeros({}, torch::kInt64));
  }
  torch::Tensor v, count;
};

struct Net : torch::nn::Module {
  Net() {
    w = register_parameter("w", torch::zeros({2, 3}));
    b = register_parameter("b", torch::zeros({2}));
    child = register_module("child", std::make_shared<Child>());
  }
  torch::Tensor w, b;
  std::shared_ptr<Child> child;
};

TEST(ModuleStateTest, ExportThenImportCopiesEveryParameterAndBuffer) {
  Net source;
  {
    torch::NoGradGuard no_grad;
    source.w.copy_(torch::arange(0, 6, torch::kFloat32).reshape({2, 3}));
    source.b.fill_(-1.0f);
    source.child->v.fill_(2.5f);
    source.child->count.fill_(17);
  }
  Checkpoint c;
  ASSERT_TRUE(ExportModuleState(source, "encoder.", &c).ok());
  EXPECT_EQ(c.tensors.size(), 4u);
  ASSERT_EQ(c.tensors.count("encoder.child.count"), 1u);

  Net target;
  absl::StatusOr<ImportReport> report =
      ImportModuleState(c.tensors, ImportOptions{"encoder.", true}, &target);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->loaded.size(), 4u);
  EXPECT_TRUE(torch::equal(target.w, source.w));
  EXPECT_TRUE(torch::equal(target.b, source.b));
  EXPECT_TRUE(torch::equal(target.child->v, source.child->v));
  EXPECT_EQ(target.child->count.item<int64_t>(), 17);
  EXPECT_TRUE(target.w.requires_grad());
}

TEST(ModuleStateTest, PrefixFilterLoadsOnlyThatSubtree) {
  Net source;
  {
    torch::NoGradGuard no_grad;
    source.w.fill_(1.0f);
  }
  Checkpoint c;
  ASSERT_TRUE(ExportModuleState(source, "encoder.", &c).ok());
  c.tensors["head.w"] = torch::full({2, 3}, 9.0f);  // must not be loaded
  Net target;
  absl::StatusOr<ImportReport> report =
      ImportModuleState(c.tensors, ImportOptions{"encoder.", true}, &target);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(torch::equal(target.w, torch::ones({2, 3})));
}

TEST(ModuleStateTest, StrictModeNamesMissingAndUnexpectedAndChangesNothing) {
  std::map<std::string, torch::Tensor> tensors = {
      {"w", torch::ones({2, 3})},
      {"child.v", torch::ones({4})},
      {"extra.weight", torch::ones({1})},
  };
  Net target;
  absl::StatusOr<ImportReport> report = ImportModuleState(tensors, {}, &target);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(report.status().message(), "missing [b, child.count]"))
      << report.status();
  EXPECT_TRUE(absl::StrContains(report.status().message(), "unexpected [extra.weight]"))
      << report.status();
  EXPECT_TRUE(torch::equal(target.w, torch::zeros({2, 3})));
}

TEST(ModuleStateTest, NonStrictModeReportsMissingAndUnexpectedAndLoadsTheRest) {
  std::map<std::string, torch::Tensor> tensors = {
      {"w", torch::ones({2, 3})},
      {"extra.weight", torch::ones({1})},
  };
  Net target;
  absl::StatusOr<ImportReport> report =
      ImportModuleState(tensors, ImportOptions{"", false}, &target);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->loaded, std::vector<std::string>{"w"});
  EXPECT_EQ(report->missing, (std::vector<std::string>{"b", "child.count", "child.v"}));
  EXPECT_EQ(report->unexpected, std::vector<std::string>{"extra.weight"});
  EXPECT_TRUE(torch::equal(target.w, torch::ones({2, 3})));
}

TEST(ModuleStateTest, ShapeMismatchIsAnErrorEvenWhenNotStrict) {
  std::map<std::string, torch::Tensor> tensors = {{"w", torch::ones({3, 2})}};
  Net target;
  absl::StatusOr<ImportReport> report =
      ImportModuleState(tensors, ImportOptions{"", false}, &target);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(absl::StrContains(report.status().message(), "'w'")) << report.status();
  EXPECT_TRUE(absl::StrContains(report.status().message(), "[3,2]")) << report.status();
  EXPECT_TRUE(torch::equal(target.w, torch::zeros({2, 3})));
}

}  // namespace
}  // namespace simclr::model
