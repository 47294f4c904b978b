#include "model/data/subset.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/data/keyed_random.h"

namespace simclr::model {

int64_t BalancedClassCount(double fraction, int64_t class_size) {
  if (class_size <= 0) return 0;
  const int64_t k = std::llround(fraction * static_cast<double>(class_size));
  return std::min(class_size, std::max<int64_t>(1, k));
}

absl::StatusOr<std::vector<int64_t>> ClassBalancedIndices(const Dataset& dataset,
                                                          double fraction, uint64_t seed) {
  if (!(fraction > 0.0 && fraction <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("subset fraction = ", fraction, "; expected (0, 1]"));
  }
  std::vector<std::vector<int64_t>> by_class(dataset.num_classes());
  for (int64_t i = 0; i < dataset.size(); ++i) {
    by_class[dataset.Label(i)].push_back(i);
  }
  std::vector<int64_t> selected;
  for (size_t c = 0; c < by_class.size(); ++c) {
    std::vector<int64_t>& members = by_class[c];
    KeyedRandom rng({seed, static_cast<uint64_t>(c)});
    rng.Shuffle(members);
    const int64_t k = BalancedClassCount(fraction, static_cast<int64_t>(members.size()));
    selected.insert(selected.end(), members.begin(), members.begin() + k);
  }
  std::sort(selected.begin(), selected.end());
  return selected;
}

absl::StatusOr<std::vector<int64_t>> ReadIndexFile(const std::string& path,
                                                   int64_t dataset_size) {
  // Errors name the path and line, never the file's text: the file may be
  // anything a job spec names, and errors end up where every user reads them.
  // Lines and the whole file are bounded, so /dev/zero cannot fill memory.
  constexpr size_t kMaxLine = 256;
  const int64_t max_lines = 4 * dataset_size + 1024;
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("index file ", path, ": cannot open"));
  std::vector<int64_t> indices;
  std::unordered_map<int64_t, int64_t> first_line;
  std::string line;
  int64_t line_number = 0;
  char c = 0;
  while (in.get(c)) {
    if (c != '\n') {
      if (line.size() == kMaxLine) {
        return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number + 1,
                                                       ": longer than ", kMaxLine,
                                                       " bytes; expected one index per line"));
      }
      line.push_back(c);
      if (in.peek() != std::char_traits<char>::eof()) continue;
    }
    ++line_number;
    if (line_number > max_lines) {
      return absl::InvalidArgumentError(absl::StrCat(
          "index file ", path, ": more than ", max_lines, " lines for ", dataset_size,
          " examples"));
    }
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    int64_t index = 0;
    const bool skip = text.empty() || text[0] == '#';
    if (!skip && !absl::SimpleAtoi(text, &index)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": not an integer index"));
    }
    line.clear();
    if (skip) continue;
    if (index < 0 || index >= dataset_size) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number, ": index ", index,
                                                     " outside [0, ", dataset_size, ")"));
    }
    const auto [it, inserted] = first_line.emplace(index, line_number);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number, ": index ", index,
                                                     " repeats line ", it->second));
    }
    indices.push_back(index);
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("index file ", path, ": read error"));
  if (indices.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("index file ", path, " lists no indices"));
  }
  return indices;
}

std::vector<int64_t> LimitExamples(std::vector<int64_t> indices, int64_t max_examples) {
  if (max_examples > 0 && static_cast<int64_t>(indices.size()) > max_examples) {
    indices.resize(max_examples);
  }
  return indices;
}

absl::StatusOr<std::vector<int64_t>> SelectIndices(const Dataset& dataset,
                                                   const SubsetOptions& options) {
  if (options.fraction != 0.0 && !options.index_file.empty()) {
    return absl::InvalidArgumentError(
        "subset: set either fraction or index_file, not both");
  }
  std::vector<int64_t> indices;
  if (options.fraction != 0.0) {
    ASSIGN_OR_RETURN(indices, ClassBalancedIndices(dataset, options.fraction, options.seed));
  } else if (!options.index_file.empty()) {
    ASSIGN_OR_RETURN(indices, ReadIndexFile(options.index_file, dataset.size()));
  } else {
    indices.resize(dataset.size());
    std::iota(indices.begin(), indices.end(), 0);
  }
  return LimitExamples(std::move(indices), options.max_examples);
}

SubsetDataset::SubsetDataset(const Dataset* base, std::vector<int64_t> indices)
    : base_(base), indices_(std::move(indices)) {
  for (int64_t i : indices_) CheckIndex(i, base_->size(), "SubsetDataset");
}

int64_t SubsetDataset::BaseIndex(int64_t index) const {
  CheckIndex(index, size(), "SubsetDataset::BaseIndex");
  return indices_[index];
}

int64_t SubsetDataset::Label(int64_t index) const { return base_->Label(BaseIndex(index)); }

Example SubsetDataset::Get(int64_t index) const { return base_->Get(BaseIndex(index)); }

PartiallyLabelledDataset::PartiallyLabelledDataset(const Dataset* base,
                                                   const std::vector<int64_t>& labelled)
    : base_(base), labelled_(static_cast<size_t>(base->size()), false) {
  for (int64_t i : labelled) {
    CheckIndex(i, base_->size(), "PartiallyLabelledDataset");
    if (!labelled_[i]) ++labelled_count_;
    labelled_[i] = true;
  }
}

int64_t PartiallyLabelledDataset::Label(int64_t index) const {
  CheckIndex(index, size(), "PartiallyLabelledDataset::Label");
  return labelled_[index] ? base_->Label(index) : kUnlabelled;
}

Example PartiallyLabelledDataset::Get(int64_t index) const {
  Example example = base_->Get(index);
  if (!labelled_[index]) example.label = kUnlabelled;
  return example;
}

absl::StatusOr<std::unique_ptr<SubsetDataset>> MakeSubset(const Dataset* base,
                                                          const SubsetOptions& options) {
  ASSIGN_OR_RETURN(std::vector<int64_t> indices, SelectIndices(*base, options));
  return std::make_unique<SubsetDataset>(base, std::move(indices));
}

}  // namespace simclr::model
