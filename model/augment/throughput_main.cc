// Measures how fast the input pipeline feeds pretraining: Fashion-MNIST read
// time, then two SimCLR views per image (the demo's augmentations: colour
// jitter 0.5, blur on) through the background loader at 1 and 2 threads.
// scripts/bench data compares it with what the trainer consumes.
//
//   bazel run //model/augment:augment_throughput -- [steps] [global_batch]
//
// Prints one line per thread count and a last line "RESULT {json}".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "model/augment/simclr_augment.h"
#include "model/data/loader.h"
#include "model/data/open_dataset.h"

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace simclr::model;
  const int64_t steps = argc > 1 ? std::atoll(argv[1]) : 20;
  const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 512;

  auto start = std::chrono::steady_clock::now();
  auto dataset = OpenDataset("fashion-mnist", "", "train");
  if (!dataset.ok()) {
    std::fprintf(stderr, "%s\n", dataset.status().ToString().c_str());
    return 1;
  }
  const double read_seconds = Seconds(start);
  std::printf("read fashion-mnist train (%lld images): %.3f s\n",
              static_cast<long long>((*dataset)->size()), read_seconds);

  AugmentOptions augment;
  augment.jitter_strength = 0.5;
  std::shared_ptr<const SimclrAugmenter> augmenter = SimclrAugmenter::Create(augment).value();
  double views_per_second[2] = {0, 0};
  for (int threads : {1, 2}) {
    LoaderOptions options;
    options.shard.global_batch = batch;
    options.num_threads = threads;
    options.end_step = steps;
    auto loader =
        BatchLoader::Create(dataset->get(), MakeAugmentTransform(augmenter, 2), options).value();
    start = std::chrono::steady_clock::now();
    for (int64_t s = 0; s < steps; ++s) {
      if (!loader->Next().ok()) return 1;
    }
    const double seconds = Seconds(start);
    views_per_second[threads - 1] = steps * batch * 2 / seconds;
    std::printf("loader threads=%d: %.0f views/s (%lld steps of %lld images x 2 views)\n",
                threads, views_per_second[threads - 1], static_cast<long long>(steps),
                static_cast<long long>(batch));
  }
  std::printf("RESULT {\"read_seconds\": %.3f, \"steps\": %lld, \"global_batch\": %lld, "
              "\"views_per_s_1_thread\": %.1f, \"views_per_s_2_threads\": %.1f}\n",
              read_seconds, static_cast<long long>(steps), static_cast<long long>(batch),
              views_per_second[0], views_per_second[1]);
  return 0;
}
