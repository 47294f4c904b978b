// Reader for a folder of images with one sub-folder per class
// (root/<class>/<file>.{jpg,jpeg,png}), decoded with libjpeg and libpng.
#ifndef SIMCLR_MODEL_DATA_IMAGE_FOLDER_H_
#define SIMCLR_MODEL_DATA_IMAGE_FOLDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/data/dataset.h"

namespace simclr::model {

struct ImageFolderOptions {
  // Every image is resized (bilinear, no antialiasing; see
  // model/augment/image_ops.h) to height x width; both must be > 0.
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 3;  // 3 (RGB) or 1 (grayscale, decoder-converted)
};

// Decodes every image of the folder into memory at Open time, so a bad file
// fails early and reads are plain copies. Thread-safe (const).
class ImageFolderDataset : public InMemoryDataset {
 public:
  // Classes are the sub-folders of `root` in byte order of their names
  // (label = position); files are taken in name order within each class;
  // other file types and nested folders are skipped.
  //
  // Errors: InvalidArgument for bad options (naming the field); NotFound when
  // `root` is not a folder; InvalidArgument when it has no class folders or
  // no images; DataLoss naming the file that fails to decode.
  static absl::StatusOr<std::unique_ptr<ImageFolderDataset>> Open(
      const std::string& root, const ImageFolderOptions& options);

  const std::vector<std::string>& class_names() const { return class_names_; }
  const std::vector<std::string>& files() const { return files_; }

 private:
  ImageFolderDataset(at::Tensor images, std::vector<int64_t> labels,
                     std::vector<std::string> class_names, std::vector<std::string> files);

  std::vector<std::string> class_names_;
  std::vector<std::string> files_;
};

// Decoded pixels of one JPEG or PNG file, HWC interleaved.
struct DecodedImage {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels
};

// Decodes a JPEG or PNG file (chosen by its first bytes) to `channels`
// (1 or 3). DataLoss naming the file on any decoder error; NotFound when it
// cannot be opened.
absl::StatusOr<DecodedImage> DecodeImageFile(const std::string& path, int64_t channels);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_DATA_IMAGE_FOLDER_H_
