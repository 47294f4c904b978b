// Counter-based random numbers keyed by a tuple of integers.
//
// NOTE [keyed randomness]
// Every random decision in the input pipeline (the epoch permutation, the
// class-balanced subset, each augmentation of each view) draws from a
// KeyedRandom built from the integers that identify the decision, e.g.
// (seed, epoch) for a permutation or (seed, epoch, sample index, view) for an
// augmentation. Nothing is keyed by rank, thread or call order, so a run's
// data does not depend on the world size, the number of loader threads, or
// which other samples share a batch.
//
// The generator is SplitMix64 (Steele, Lea, Flood 2014): the state is a
// 64-bit counter advanced by the golden-ratio increment and each output is
// the counter passed through a strong mixer. The key tuple is folded into the
// starting counter with the same mixer. All distributions below are defined
// here (not by <random>), so the stream is identical on every platform and
// standard library.
#ifndef SIMCLR_MODEL_DATA_KEYED_RANDOM_H_
#define SIMCLR_MODEL_DATA_KEYED_RANDOM_H_

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

namespace simclr::model {

// Not thread-safe (it is a small value type: make one per use).
//
//   KeyedRandom rng({seed, epoch, index, view});
//   double u = rng.Uniform(0.08, 1.0);
class KeyedRandom {
 public:
  explicit KeyedRandom(std::initializer_list<uint64_t> key) {
    uint64_t state = 0x5851F42D4C957F2DULL;
    for (uint64_t k : key) state = Mix(state ^ Mix(k + kGolden));
    state_ = state;
  }

  // 64 uniformly distributed bits.
  uint64_t NextU64() {
    state_ += kGolden;
    return Mix(state_);
  }

  // Uniform in [0, 1) with 53 bits of resolution.
  double Uniform() {
    return static_cast<double>(NextU64() >> 11) * 0x1.0p-53;
  }

  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }

  // True with probability p.
  bool Bernoulli(double p) { return Uniform() < p; }

  // Uniform integer in [0, n) without modulo bias; n must be > 0.
  uint64_t UniformInt(uint64_t n) {
    // Rejection: accept x below the largest multiple of n.
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
      x = NextU64();
    } while (x >= limit);
    return x % n;
  }

  // Fisher-Yates shuffle of `values`.
  template <typename T>
  void Shuffle(std::vector<T>& values) {
    for (size_t i = values.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(UniformInt(i));
      std::swap(values[i - 1], values[j]);
    }
  }

  // SplitMix64's output function.
  static uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  static constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
  uint64_t state_;
};

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_DATA_KEYED_RANDOM_H_
