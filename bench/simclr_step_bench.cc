// Times one SimCLR pretraining step with the model library: forward of both
// views through the ResNet and projection head (one batch of 2B views, so
// batch norm sees both, as in SimCLR), NT-Xent, backward and a LARS update.
// Augmentation is excluded: the two views are fixed random tensors.
//
// bench/reference/simclr_step_pytorch.py runs the same step in PyTorch eager
// with the same flags; bench/run_cpu.sh and bench/gpu/run.sh race the two.
//
//   simclr_step_bench --depth=18 --width=0.25 --image_size=28 --channels=1
//       --batch=256 --precision=bf16 --threads=2   (one command line)
//
// Prints a human-readable summary and one line starting with "RESULT " that
// holds a JSON object (images/s = batch / median step time; every image
// contributes two views).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/cuda.h>
#include <torch/serialize.h>
#include <torch/types.h>
#include <torch/version.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "model/loss/nt_xent.h"
#include "model/nn/autocast_scope.h"
#include "model/nn/options.h"
#include "model/nn/simclr_model.h"
#include "model/optim/lars.h"

ABSL_FLAG(int, depth, 18, "ResNet depth: 18, 34, 50, 101, 152");
ABSL_FLAG(double, width, 0.25, "ResNet width multiplier");
ABSL_FLAG(double, sk_ratio, 0.0, "selective-kernel ratio (0: plain ResNet)");
ABSL_FLAG(int, image_size, 28, "image side in pixels");
ABSL_FLAG(int, channels, 1, "image channels");
ABSL_FLAG(int, batch, 256, "images per step (each gives two views)");
ABSL_FLAG(std::string, precision, "fp32", "fp32 or bf16 (autocast)");
ABSL_FLAG(bool, channels_last, false, "channels-last weights and inputs");
ABSL_FLAG(std::string, device, "cpu", "cpu or cuda");
ABSL_FLAG(int, threads, 2, "intra-op threads (CPU)");
ABSL_FLAG(int, warmup, 3, "untimed steps first");
ABSL_FLAG(int, steps, 10, "timed steps; the median is reported");
ABSL_FLAG(int, seed, 0, "seed for weights and views");
ABSL_FLAG(std::string, state_out, "",
          "write the initial weights and the views here (torch.save's format) before the "
          "first step, for the PyTorch reference's --state_in: both then take the same step");
ABSL_FLAG(std::string, profile, "",
          "after the timed steps, trace one more with LibTorch's profiler and write the "
          "Chrome trace here (bench/profile_summary.py tables it)");
ABSL_FLAG(bool, cudnn_benchmark, false,
          "let cuDNN time its algorithms for the fixed shapes (CUDA)");

namespace simclr::bench {
namespace {

using model::LarsOptions;

struct BenchOptions {
  model::ModelOptions model;
  int batch = 256;
  bool bf16 = false;
  bool channels_last = false;
  torch::Device device = torch::kCPU;
  int warmup = 3;
  int steps = 10;
};

absl::StatusOr<BenchOptions> OptionsFromFlags() {
  BenchOptions options;
  options.model.resnet.depth = absl::GetFlag(FLAGS_depth);
  options.model.resnet.width_multiplier = absl::GetFlag(FLAGS_width);
  options.model.resnet.sk_ratio = absl::GetFlag(FLAGS_sk_ratio);
  options.model.resnet.image_size = absl::GetFlag(FLAGS_image_size);
  options.model.resnet.in_channels = absl::GetFlag(FLAGS_channels);
  options.model.proj_head_layers = 3;
  options.model.proj_dim = 128;
  RETURN_IF_ERROR(model::ValidateModelOptions(options.model));
  options.batch = absl::GetFlag(FLAGS_batch);
  if (options.batch < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("--batch is ", options.batch, "; expected at least 2"));
  }
  const std::string precision = absl::GetFlag(FLAGS_precision);
  if (precision != "fp32" && precision != "bf16") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--precision is \"", precision, "\"; expected fp32 or bf16"));
  }
  options.bf16 = precision == "bf16";
  options.channels_last = absl::GetFlag(FLAGS_channels_last);
  const std::string device = absl::GetFlag(FLAGS_device);
  if (device == "cuda") {
    if (!torch::cuda::is_available()) {
      return absl::FailedPreconditionError(
          "--device=cuda, but this LibTorch sees no CUDA device");
    }
    options.device = torch::Device(torch::kCUDA, 0);
    at::globalContext().setBenchmarkCuDNN(absl::GetFlag(FLAGS_cudnn_benchmark));
  } else if (device != "cpu") {
    return absl::InvalidArgumentError(
        absl::StrCat("--device is \"", device, "\"; expected cpu or cuda"));
  }
  options.warmup = absl::GetFlag(FLAGS_warmup);
  options.steps = absl::GetFlag(FLAGS_steps);
  if (options.warmup < 0 || options.steps < 1) {
    return absl::InvalidArgumentError(
        "--warmup must be >= 0 and --steps >= 1");
  }
  return options;
}

void Synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

struct Result {
  std::vector<double> step_seconds;  // sorted
  double first_loss = 0.0;  // of the first step: the same on both sides with --state_out
  double last_loss = 0.0;
  int64_t parameters = 0;
};

absl::StatusOr<Result> Run(const BenchOptions& options) {
  torch::manual_seed(absl::GetFlag(FLAGS_seed));
  ASSIGN_OR_RETURN(model::SimclrModel net, model::MakeSimclrModel(options.model));
  Result result;
  const auto memory_format = options.channels_last
                                 ? at::MemoryFormat::ChannelsLast
                                 : at::MemoryFormat::Contiguous;
  net->to(options.device);
  net->train();
  for (const torch::Tensor& p : net->parameters()) result.parameters += p.numel();
  if (options.channels_last) model::UseChannelsLast(*net);
  ASSIGN_OR_RETURN(std::unique_ptr<model::Lars> lars,
                   model::Lars::Create(model::SplitParamsForLars(*net),
                                       LarsOptions{}));
  // The paper's square-root-free scaling: lr = 0.3 x batch / 256.
  const double learning_rate = 0.3 * options.batch / 256.0;

  const int64_t side = options.model.resnet.image_size;
  const auto input_options = torch::TensorOptions().device(options.device);
  // Views 1 and 2 of every image, as one [2B, C, H, W] batch.
  torch::Tensor views =
      torch::randn({2 * options.batch, options.model.resnet.in_channels, side,
                    side},
                   input_options)
          .contiguous(memory_format);

  if (const std::string path = absl::GetFlag(FLAGS_state_out); !path.empty()) {
    c10::Dict<std::string, torch::Tensor> state;
    for (const auto& item : net->named_parameters(true)) state.insert(item.key(), item.value().cpu());
    for (const auto& item : net->named_buffers(true)) state.insert(item.key(), item.value().cpu());
    c10::impl::GenericDict saved(c10::StringType::get(), c10::AnyType::get());
    saved.insert("state", state);
    saved.insert("views", views.cpu().contiguous());
    const std::vector<char> bytes = torch::pickle_save(saved);
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  auto step = [&]() -> absl::StatusOr<double> {
    lars->ZeroGrad();
    torch::Tensor loss;
    {
      model::AutocastScope autocast(options.bf16, options.device);
      torch::Tensor z = net->Embedding(views);
      std::vector<torch::Tensor> halves = z.chunk(2, 0);
      ASSIGN_OR_RETURN(model::NtXentOutput out,
                       model::NtXentLoss(halves[0], halves[1], {}));
      loss = out.loss;
    }
    loss.backward();
    RETURN_IF_ERROR(lars->Step(learning_rate));
    return loss.item<double>();
  };

  try {
    for (int i = 0; i < options.warmup; ++i) {
      ASSIGN_OR_RETURN(result.last_loss, step());
      if (i == 0) result.first_loss = result.last_loss;
    }
    Synchronize(options.device);
    for (int i = 0; i < options.steps; ++i) {
      const auto start = std::chrono::steady_clock::now();
      ASSIGN_OR_RETURN(result.last_loss, step());
      if (i == 0 && options.warmup == 0) result.first_loss = result.last_loss;
      Synchronize(options.device);
      result.step_seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                        start)
              .count());
    }
    if (const std::string path = absl::GetFlag(FLAGS_profile); !path.empty()) {
      torch::autograd::profiler::RecordProfile profile(path);
      RETURN_IF_ERROR(step().status());
      Synchronize(options.device);
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("training step failed: ", e.what()));
  }
  std::sort(result.step_seconds.begin(), result.step_seconds.end());
  return result;
}

double Median(const std::vector<double>& sorted) {
  const size_t n = sorted.size();
  return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<BenchOptions> options = OptionsFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "simclr_step_bench: %s\n",
                 options.status().ToString().c_str());
    return 2;
  }
  const int threads = absl::GetFlag(FLAGS_threads);
  if (threads > 0) at::set_num_threads(threads);

  absl::StatusOr<Result> result = Run(*options);
  if (!result.ok()) {
    std::fprintf(stderr, "simclr_step_bench: %s\n",
                 result.status().ToString().c_str());
    return 1;
  }
  const double median = Median(result->step_seconds);
  const double images_per_s = options->batch / median;
  const model::ResNetOptions& r = options->model.resnet;
  std::printf(
      "C++ LibTorch %s: ResNet-%d w%g%s %dx%dx%d batch %d %s%s on %s, "
      "%d threads: median step %.4f s (min %.4f, max %.4f) = %.1f images/s "
      "(%.1f views/s), loss %.4f\n",
      TORCH_VERSION, r.depth, r.width_multiplier, r.sk_ratio > 0 ? "+SK" : "",
      static_cast<int>(r.image_size), static_cast<int>(r.image_size),
      static_cast<int>(r.in_channels), options->batch,
      options->bf16 ? "bf16" : "fp32",
      options->channels_last ? " channels_last" : "",
      options->device.str().c_str(), at::get_num_threads(), median,
      result->step_seconds.front(), result->step_seconds.back(), images_per_s,
      2 * images_per_s, result->last_loss);
  std::printf(
      "RESULT {\"impl\": \"cpp\", \"torch\": \"%s\", \"depth\": %d, "
      "\"width\": %g, \"sk_ratio\": %g, \"image_size\": %d, \"channels\": %d, "
      "\"batch\": %d, \"precision\": \"%s\", \"channels_last\": %s, "
      "\"device\": \"%s\", \"threads\": %d, \"steps\": %d, "
      "\"parameters\": %lld, \"median_step_s\": %.6f, "
      "\"images_per_s\": %.3f, \"first_loss\": %.6f, \"loss\": %.6f}\n",
      TORCH_VERSION, r.depth, r.width_multiplier, r.sk_ratio,
      static_cast<int>(r.image_size), static_cast<int>(r.in_channels),
      options->batch, options->bf16 ? "bf16" : "fp32",
      options->channels_last ? "true" : "false", options->device.str().c_str(),
      at::get_num_threads(), options->steps,
      static_cast<long long>(result->parameters), median, images_per_s,
      result->first_loss, result->last_loss);
  return 0;
}

}  // namespace
}  // namespace simclr::bench

int main(int argc, char** argv) { return simclr::bench::Main(argc, argv); }
