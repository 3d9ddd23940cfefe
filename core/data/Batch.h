#pragma once
// Batch: the input a model trains on, built from chosen samples with the dataset's normalization
// applied. This is the one place where normalization is applied, so training, evaluation and
// every contributor see the same numbers for the same shard.
#include "data/Normalization.h"
#include "data/Samples.h"

#include <span>

namespace raven::data {

struct Batch {
    Shape xShape;                 // [B, ...feature shape]
    std::vector<float> x;         // normalized features, row-major
    Shape yShape;                 // [B, ...label shape]
    std::vector<std::int32_t> y;  // labels
    std::int64_t size() const { return xShape.empty() ? 0 : xShape[0]; }
};

Batch makeBatch(const Samples& samples, std::span<const std::int64_t> indices, const Normalization& normalization);
// Samples [begin, begin + n).
Batch makeBatch(const Samples& samples, std::int64_t begin, std::int64_t n, const Normalization& normalization);

}  // namespace raven::data
