// Labelled subsets: class-balanced fractions (SimCLRv2 fine-tunes on 1% and
// 10% of the labels), explicit index files, and a prefix limit.
#ifndef SIMCLR_MODEL_DATA_SUBSET_H_
#define SIMCLR_MODEL_DATA_SUBSET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/data/dataset.h"

namespace simclr::model {

// Per-class count of a class-balanced subset: a class with n examples keeps
// k = llround(fraction * n) (halves round away from zero), at least 1 when
// n > 0. E.g. Fashion-MNIST train (6000 per class): 1% -> 60, 10% -> 600.
int64_t BalancedClassCount(double fraction, int64_t class_size);

// Indices of a class-balanced subset, ascending. Class c keeps the first
// BalancedClassCount(fraction, n_c) of its indices after a Fisher-Yates
// shuffle keyed by (seed, c) (model/data/keyed_random.h): the same seed
// gives the same subset on every machine. InvalidArgument unless
// 0 < fraction <= 1.
absl::StatusOr<std::vector<int64_t>> ClassBalancedIndices(const Dataset& dataset,
                                                          double fraction, uint64_t seed);

// Reads one dataset index per line, in file order; blank lines and lines
// starting with '#' are skipped, surrounding spaces ignored. NotFound when
// the file cannot be opened; InvalidArgument naming the file and line number
// for a line that is not an integer, an index outside [0, dataset_size), or
// an index that repeats an earlier line; InvalidArgument for a file without
// indices.
absl::StatusOr<std::vector<int64_t>> ReadIndexFile(const std::string& path,
                                                   int64_t dataset_size);

// The first max_examples indices (all of them when max_examples <= 0).
std::vector<int64_t> LimitExamples(std::vector<int64_t> indices, int64_t max_examples);

struct SubsetOptions {
  double fraction = 0.0;   // in (0, 1]: class-balanced subset; 0: not used
  std::string index_file;  // explicit indices; exclusive with fraction
  int64_t max_examples = 0;  // <= 0: no limit; applied last
  uint64_t seed = 0;         // for fraction
};

// Applies `options`: the fraction or the index file (or every index when
// neither is set), then max_examples. InvalidArgument when both fraction and
// index_file are set, plus the errors of the functions above.
absl::StatusOr<std::vector<int64_t>> SelectIndices(const Dataset& dataset,
                                                   const SubsetOptions& options);

// A view of some examples of another dataset: example i is base example
// indices[i]. Thread-safe (const). `base` is not owned and must outlive it.
class SubsetDataset : public Dataset {
 public:
  // Every index must be in [0, base->size()) (SelectIndices guarantees it).
  SubsetDataset(const Dataset* base, std::vector<int64_t> indices);

  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  int64_t num_classes() const override { return base_->num_classes(); }
  int64_t channels() const override { return base_->channels(); }
  int64_t height() const override { return base_->height(); }
  int64_t width() const override { return base_->width(); }
  int64_t Label(int64_t index) const override;
  Example Get(int64_t index) const override;

  // The base dataset's index of example `index`.
  int64_t BaseIndex(int64_t index) const;
  const std::vector<int64_t>& indices() const { return indices_; }

 private:
  const Dataset* base_;  // not owned
  std::vector<int64_t> indices_;
};

// Every example of another dataset, with the labels of `labelled` (indices of
// `base`) only: the others read kUnlabelled. A distillation job trains on
// every image but takes its label loss on the labelled subset alone (the
// paper's Eq. 3). Thread-safe (const). `base` is not owned and must outlive it.
class PartiallyLabelledDataset : public Dataset {
 public:
  // Every index must be in [0, base->size()) (SelectIndices guarantees it).
  PartiallyLabelledDataset(const Dataset* base, const std::vector<int64_t>& labelled);

  int64_t size() const override { return base_->size(); }
  int64_t num_classes() const override { return base_->num_classes(); }
  int64_t channels() const override { return base_->channels(); }
  int64_t height() const override { return base_->height(); }
  int64_t width() const override { return base_->width(); }
  int64_t Label(int64_t index) const override;
  Example Get(int64_t index) const override;

  int64_t labelled_count() const { return labelled_count_; }

 private:
  const Dataset* base_;  // not owned
  std::vector<bool> labelled_;
  int64_t labelled_count_ = 0;
};

// SelectIndices, then a SubsetDataset over `base` (not owned).
absl::StatusOr<std::unique_ptr<SubsetDataset>> MakeSubset(const Dataset* base,
                                                          const SubsetOptions& options);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_DATA_SUBSET_H_
