#include "data/Batch.h"

#include "base/Error.h"

#include <algorithm>
#include <numeric>

namespace raven::data {

Batch makeBatch(const Samples& samples, std::span<const std::int64_t> indices, const Normalization& normalization) {
    Batch b;
    const auto n = static_cast<std::int64_t>(indices.size());
    b.xShape = {n};
    b.xShape.insert(b.xShape.end(), samples.featureShape().begin(), samples.featureShape().end());
    b.yShape = {n};
    b.yShape.insert(b.yShape.end(), samples.labelShape().begin(), samples.labelShape().end());
    const auto fs = static_cast<std::size_t>(samples.featureSize());
    b.x.resize(static_cast<std::size_t>(n) * fs);
    b.y.reserve(static_cast<std::size_t>(n * samples.labelSize()));
    for (std::int64_t k = 0; k < n; ++k) {
        const auto src = samples.features(indices[static_cast<std::size_t>(k)]);
        const std::span<float> dst(b.x.data() + static_cast<std::size_t>(k) * fs, fs);
        std::copy(src.begin(), src.end(), dst.begin());
        normalization.apply(dst, samples.featureShape());
        const auto labels = samples.labels(indices[static_cast<std::size_t>(k)]);
        b.y.insert(b.y.end(), labels.begin(), labels.end());
    }
    return b;
}

Batch makeBatch(const Samples& samples, std::int64_t begin, std::int64_t n, const Normalization& normalization) {
    RAVEN_ASSERT(begin >= 0 && n >= 0 && begin + n <= samples.count(), "batch out of range");
    std::vector<std::int64_t> indices(static_cast<std::size_t>(n));
    std::iota(indices.begin(), indices.end(), begin);
    return makeBatch(samples, indices, normalization);
}

}  // namespace raven::data
