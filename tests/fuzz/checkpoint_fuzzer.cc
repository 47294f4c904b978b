// libFuzzer target: our checkpoint file format (model/checkpoint/checkpoint.h)
// read from a file holding the input, as a resume or a child job would read a
// torn or corrupt checkpoint. Bar: a Status, never a crash or a sanitizer
// report.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "model/checkpoint/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path =
      "/tmp/simclr-checkpoint-fuzz-" + std::to_string(::getpid()) + ".simclr";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  simclr::model::LoadCheckpoint(path).IgnoreError();
  return 0;
}
