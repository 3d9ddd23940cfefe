#pragma once
// Train/test split by a seeded shuffle, for formats that do not come split (CSV, .npy, image folders,
// text). IDX keeps the split of its own train and t10k files.
//
// The shuffle is Raven's own (SplitMix64 + Fisher-Yates with unbiased bounded draws), not
// std::shuffle, whose result differs between standard libraries: the same seed gives the same split,
// hence the same shards and dataset id, on every machine.
#include "data/Samples.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace raven::data {

// A permutation of 0..n-1 determined by the seed alone.
std::vector<std::int64_t> seededPermutation(std::int64_t n, std::uint64_t seed);

// Shuffles `all` with `seed`, then puts round(testFraction * n) samples in the test split (at least
// one, and at least one left for training, when n >= 2 and testFraction > 0). Returns {train, test}.
// testFraction outside [0, 1) is a raven::Error.
std::pair<Samples, Samples> splitSamples(const Samples& all, double testFraction, std::uint64_t seed);

}  // namespace raven::data
