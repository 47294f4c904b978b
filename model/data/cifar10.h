// Reader for CIFAR-10 (Krizhevsky 2009) in its binary version.
#ifndef SIMCLR_MODEL_DATA_CIFAR10_H_
#define SIMCLR_MODEL_DATA_CIFAR10_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/data/dataset.h"

namespace simclr::model {

// Reads split "train" (data_batch_1.bin .. data_batch_5.bin, in that order)
// or "test" (test_batch.bin) from `dir`, or from `dir`/cifar-10-batches-bin
// when `dir` itself has no batch files. Each record is one label byte then
// 3x32x32 pixel bytes (R plane, G plane, B plane), giving 3x32x32 uint8
// images, 10 classes.
//
// Errors: InvalidArgument for another split; NotFound naming a missing file;
// DataLoss naming the file when its size is not a positive multiple of the
// 3073-byte record, or when a label is outside 0..9 (with its record index).
absl::StatusOr<std::unique_ptr<InMemoryDataset>> ReadCifar10(const std::string& dir,
                                                             absl::string_view split);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_DATA_CIFAR10_H_
