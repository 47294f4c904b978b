// simclr-trainer: runs one task of a SimCLRv2 job, as a child process of a
// simclr-worker agent (NOTE [trainer process] in
// worker/trainer_process_runner.h). Not meant to be started by hand.
//
//   simclr-trainer --device=cpu|cuda:N --threads=N --local_address=HOST
//       < TaskAssignment (binary)      events to fd 3, logs to stdout/stderr
//   simclr-trainer --probe --device=cuda:N
//       checks the device; prints "name=...", "memory_bytes=..." lines, or
//       why the device cannot be used (exit code 2)
//
// SIGTERM asks the task to stop: the gang agrees to stop at the next step and
// rank 0 writes a checkpoint there; before the first step it ends at once. Exit code 0 when the task succeeded, 1
// when it failed (the reason went to the agent), 2 for bad usage.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/flags_usage.h"
#include "common/clock.h"
#include "common/shutdown_signal.h"
#include "proto/simclr/v1/worker.pb.h"
#include "worker/trainer_channel.h"
#include "worker/training/event_sink.h"
#include "worker/training/training_runner.h"

#ifdef SIMCLR_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

ABSL_FLAG(std::string, device, "cpu", "cpu or cuda:N");
ABSL_FLAG(int, threads, 0, "intra-op threads for LibTorch (0: all cores)");
ABSL_FLAG(std::string, local_address, "",
          "address the collective transport binds to (\"\": automatic)");
ABSL_FLAG(std::vector<std::string>, data_roots, {},
          "directories a task may read data under (links resolved); empty: anywhere");
ABSL_FLAG(bool, probe, false, "check --device, print what it is, and exit");

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "simclr-trainer: %s\n", message.c_str());
  return 2;
}

// The CUDA device index of "cuda:N" (or "cuda": 0); -1 for "cpu".
bool ParseDevice(const std::string& device, int* index) {
  if (device == "cpu") {
    *index = -1;
    return true;
  }
  if (device == "cuda") {
    *index = 0;
    return true;
  }
  return absl::StartsWith(device, "cuda:") && absl::SimpleAtoi(device.substr(5), index) &&
         *index >= 0;
}

int Probe(const std::string& device, int index) {
  if (index < 0) {
    std::printf("name=cpu\nmemory_bytes=%lld\n",
                static_cast<long long>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE));
    return 0;
  }
  const int count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    // Bare, without the program's name: the agent quotes it after the flag.
    std::fprintf(stderr, "this machine has %d CUDA device(s) visible to this LibTorch%s\n", count,
                 count == 0 ? " (no GPU, no driver, or a LibTorch built without CUDA)" : "");
    return 2;
  }
#ifdef SIMCLR_WITH_CUDA
  const cudaDeviceProp* props = at::cuda::getDeviceProperties(index);
  std::printf("name=%s\nmemory_bytes=%lld\n", props->name,
              static_cast<long long>(props->totalGlobalMem));
#else
  std::printf("name=cuda\nmemory_bytes=0\n");
#endif
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  simclr::BlockShutdownSignals();  // before any thread starts
  simclr::SetFlagsUsage(
      "Runs one SimCLRv2 task for a simclr-worker agent (task on stdin, events on fd 3).",
      "worker/trainer_main.cc");
  absl::ParseCommandLine(argc, argv);

  const std::string device = absl::GetFlag(FLAGS_device);
  int index = -1;
  if (!ParseDevice(device, &index)) {
    return Fail(absl::StrCat("--device: got \"", device, "\", expected cpu or cuda:N"));
  }
  if (absl::GetFlag(FLAGS_probe)) return Probe(device, index);
  if (index >= 0) {
    // A collective that outlives the job's collective timeout (a dead or
    // frozen peer) makes ProcessGroupNCCL's watchdog abort the communicators
    // and end this process (1 = tear down) rather than hang: the agent then
    // reports the attempt failed. Set before any thread starts; a value the
    // operator set wins. LibTorch 1.x reads the first name, 2.x the second.
    setenv("NCCL_ASYNC_ERROR_HANDLING", "1", /*overwrite=*/0);
    setenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1", /*overwrite=*/0);
    // A job trains on one batch shape: cuDNN's algorithm search pays for
    // itself after the first steps.
    at::globalContext().setBenchmarkCuDNN(true);
  }

  const int threads = absl::GetFlag(FLAGS_threads);
  if (threads < 0) return Fail("--threads: expected an integer >= 0");
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  torch::set_num_threads(threads > 0 ? threads : std::max(1, cores));

  const std::string bytes((std::istreambuf_iterator<char>(std::cin)),
                          std::istreambuf_iterator<char>());
  simclr::v1::TaskAssignment task;
  if (bytes.empty() || !task.ParseFromString(bytes)) {
    return Fail("expected a TaskAssignment on stdin (this program is started by simclr-worker)");
  }
  std::fprintf(stderr, "simclr-trainer: %s (%s \"%s\"), rank %d of %d, device %s, %d threads\n",
               task.task_id().c_str(), task.spec().kind().c_str(), task.spec().name().c_str(),
               task.rank(), task.world_size(), device.c_str(), torch::get_num_threads());

  absl::Notification cancel;
  simclr::NotifyOnShutdownSignal(&cancel);
  simclr::worker::EventSink events(simclr::worker::kTrainerEventsFd, &cancel);
  // A stop request before the first step (the trainer still loading data or
  // waiting at the rendezvous for a peer that is gone) has nothing to save
  // and no step to agree on: end at once rather than at the rendezvous
  // timeout. After it, the gang's per-step vote stops every rank together.
  std::thread([&cancel, &events] {
    cancel.WaitForNotification();
    if (events.stepped()) return;
    events.Finish(absl::CancelledError("stopped before the first step"));
    std::fflush(stderr);
    _exit(1);
  }).detach();

  simclr::worker::TrainingRunnerOptions options;
  options.device = index < 0 ? "cpu" : absl::StrCat("cuda:", index);
  options.local_address = absl::GetFlag(FLAGS_local_address);
  options.data_roots = absl::GetFlag(FLAGS_data_roots);
  simclr::worker::TrainingRunner runner(options, &events, &simclr::Clock::Real());
  const absl::StatusOr<simclr::worker::TaskResult> result = runner.Run(task, events);
  std::fprintf(stderr, "simclr-trainer: %s %s\n", task.task_id().c_str(),
               result.ok() ? "succeeded" : result.status().ToString().c_str());
  events.Finish(result);
  // Without destructors: the stop watcher still waits on `cancel`, and the
  // result is out. (A throwaway process; LibTorch's and Gloo's static
  // destructors have nothing left to do.)
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(result.ok() ? 0 : 1);
}
