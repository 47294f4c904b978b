// Opens a dataset by name: the one entry point trainers use.
#ifndef SIMCLR_MODEL_DATA_OPEN_DATASET_H_
#define SIMCLR_MODEL_DATA_OPEN_DATASET_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/data/dataset.h"

namespace simclr::model {

struct DatasetOptions {
  // image-folder only: every image is resized to image_height x image_width
  // (both required) with `channels` (1 or 3) channels.
  int64_t image_height = 0;
  int64_t image_width = 0;
  int64_t channels = 3;
};

// name: "fashion-mnist" (path may be empty: the Debian package's folder),
// "cifar10", or "image-folder" (classes are sub-folders of path/split, or of
// path when split is empty). split: "train" | "test" for the first two.
//
// Errors: InvalidArgument naming an unknown dataset name, split or option,
// plus whatever the reader returns (NotFound / DataLoss naming the file).
absl::StatusOr<std::unique_ptr<Dataset>> OpenDataset(absl::string_view name,
                                                     const std::string& path,
                                                     absl::string_view split,
                                                     const DatasetOptions& options = {});

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_DATA_OPEN_DATASET_H_
