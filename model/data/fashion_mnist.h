// Reader for Fashion-MNIST (Xiao, Rasul, Vollgraf 2017) in its IDX gzip
// files, as Debian's dataset-fashion-mnist installs them.
#ifndef SIMCLR_MODEL_DATA_FASHION_MNIST_H_
#define SIMCLR_MODEL_DATA_FASHION_MNIST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/data/dataset.h"

namespace simclr::model {

inline constexpr char kFashionMnistDefaultDir[] = "/usr/share/datasets/fashion-mnist";

// Reads `dir`/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz for split
// "train" (60000 images) or "test" (10000), 1x28x28 uint8 images, 10 classes.
// The whole split is decoded into memory (~0.25 s for train).
//
// Errors: InvalidArgument for another split; NotFound when a file is missing;
// DataLoss naming the file and what was expected for a bad magic number,
// dimensions, a truncated or corrupt gzip stream, trailing bytes, image and
// label counts that differ, or a label outside 0..9.
absl::StatusOr<std::unique_ptr<InMemoryDataset>> ReadFashionMnist(const std::string& dir,
                                                                  absl::string_view split);

// The whole decompressed content of a gzip file. NotFound when it cannot be
// opened; DataLoss, naming the file, when the stream is corrupt or truncated.
absl::StatusOr<std::string> ReadGzipFile(const std::string& path);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_DATA_FASHION_MNIST_H_
