// The dataset interface every reader implements, and an in-memory
// implementation the readers share.
#ifndef SIMCLR_MODEL_DATA_DATASET_H_
#define SIMCLR_MODEL_DATA_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace simclr::model {

// The label of an image whose label a job may not use (a distillation job's
// images outside its labelled subset: PartiallyLabelledDataset).
inline constexpr int64_t kUnlabelled = -1;

// One image and its label.
struct Example {
  at::Tensor image;  // uint8 [channels, height, width], contiguous
  int64_t label = 0;  // in [0, num_classes), or kUnlabelled
};

// A fixed, indexable collection of equally sized images with class labels.
// Implementations are immutable after construction: every const method may be
// called from many threads at once. Indices outside [0, size()) are a
// programming error (the process aborts with a message).
class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual int64_t size() const = 0;
  virtual int64_t num_classes() const = 0;
  virtual int64_t channels() const = 0;
  virtual int64_t height() const = 0;
  virtual int64_t width() const = 0;

  // The label of example `index`, without touching its pixels.
  virtual int64_t Label(int64_t index) const = 0;

  // Example `index`; the image is the caller's own copy.
  virtual Example Get(int64_t index) const = 0;
};

// Images held decoded in one uint8 [N, C, H, W] tensor. Thread-safe (const).
class InMemoryDataset : public Dataset {
 public:
  // `images` uint8 [N, C, H, W], `labels` N values in [0, num_classes).
  // Readers validate their input before constructing one; a mismatch here is
  // a programming error and aborts.
  InMemoryDataset(at::Tensor images, std::vector<int64_t> labels, int64_t num_classes);

  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  int64_t num_classes() const override { return num_classes_; }
  int64_t channels() const override { return images_.size(1); }
  int64_t height() const override { return images_.size(2); }
  int64_t width() const override { return images_.size(3); }
  int64_t Label(int64_t index) const override;
  Example Get(int64_t index) const override;

  // All pixels, [N, C, H, W] (read-only: shared with every caller).
  const at::Tensor& images() const { return images_; }
  const std::vector<int64_t>& labels() const { return labels_; }

 private:
  at::Tensor images_;
  std::vector<int64_t> labels_;
  int64_t num_classes_;
};

// Aborts with a message naming `what` when index is outside [0, size).
void CheckIndex(int64_t index, int64_t size, const char* what);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_DATA_DATASET_H_
