#include "model/data/open_dataset.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/data/cifar10.h"
#include "model/data/fashion_mnist.h"
#include "model/data/image_folder.h"

namespace simclr::model {

absl::StatusOr<std::unique_ptr<Dataset>> OpenDataset(absl::string_view name,
                                                     const std::string& path,
                                                     absl::string_view split,
                                                     const DatasetOptions& options) {
  if (name == "fashion-mnist") {
    ASSIGN_OR_RETURN(auto dataset,
                     ReadFashionMnist(path.empty() ? kFashionMnistDefaultDir : path, split));
    return std::unique_ptr<Dataset>(std::move(dataset));
  }
  if (name == "cifar10") {
    if (path.empty()) return absl::InvalidArgumentError("cifar10 needs a data path");
    ASSIGN_OR_RETURN(auto dataset, ReadCifar10(path, split));
    return std::unique_ptr<Dataset>(std::move(dataset));
  }
  if (name == "image-folder") {
    if (path.empty()) return absl::InvalidArgumentError("image-folder needs a data path");
    ImageFolderOptions folder;
    folder.height = options.image_height;
    folder.width = options.image_width;
    folder.channels = options.channels;
    const std::string root = split.empty() ? path : absl::StrCat(path, "/", split);
    ASSIGN_OR_RETURN(auto dataset, ImageFolderDataset::Open(root, folder));
    return std::unique_ptr<Dataset>(std::move(dataset));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "dataset name '", name, "'; expected fashion-mnist, cifar10 or image-folder"));
}

}  // namespace simclr::model
