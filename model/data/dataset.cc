#include "model/data/dataset.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace simclr::model {

void CheckIndex(int64_t index, int64_t size, const char* what) {
  if (index < 0 || index >= size) {
    std::fprintf(stderr, "%s: index %lld outside [0, %lld)\n", what,
                 static_cast<long long>(index), static_cast<long long>(size));
    std::abort();
  }
}

InMemoryDataset::InMemoryDataset(at::Tensor images, std::vector<int64_t> labels,
                                 int64_t num_classes)
    : images_(images.contiguous()), labels_(std::move(labels)), num_classes_(num_classes) {
  if (images_.scalar_type() != at::kByte || images_.dim() != 4 ||
      images_.size(0) != static_cast<int64_t>(labels_.size())) {
    std::fprintf(stderr, "InMemoryDataset: images must be uint8 [N, C, H, W] with N = %zu\n",
                 labels_.size());
    std::abort();
  }
}

int64_t InMemoryDataset::Label(int64_t index) const {
  CheckIndex(index, size(), "InMemoryDataset::Label");
  return labels_[index];
}

Example InMemoryDataset::Get(int64_t index) const {
  CheckIndex(index, size(), "InMemoryDataset::Get");
  return Example{images_.select(0, index).clone(), labels_[index]};
}

}  // namespace simclr::model
