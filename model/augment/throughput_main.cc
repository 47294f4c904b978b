// Measures how fast the input pipeline feeds pretraining: Fashion-MNIST read
// time, then two SimCLR views per image through the background loader at
// 1 and 2 threads. Compare with the trainer's consumption (DESIGN.md: ~1,000
// views/s for ResNet-18 width 0.25 on two cores).
//
//   bazel run //model/augment:augment_throughput -- [steps] [global_batch]
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
  std::printf("read fashion-mnist train (%lld images): %.3f s\n",
              static_cast<long long>((*dataset)->size()), Seconds(start));

  std::shared_ptr<const SimclrAugmenter> augmenter =
      SimclrAugmenter::Create(AugmentOptions()).value();
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
    std::printf("loader threads=%d: %.0f views/s (%lld steps of %lld images x 2 views)\n",
                threads, steps * batch * 2 / seconds, static_cast<long long>(steps),
                static_cast<long long>(batch));
  }
  return 0;
}
