#include "coordinator/RobustAggregation.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <thread>

#include "base/Error.h"

namespace raven::coordinator {

namespace {

// Coordinates are handled in fixed blocks, so that the per-unit distances (sums of per-block
// partial sums, added in block order) do not depend on how many threads there are.
constexpr std::size_t kBlock = 8192;

template <typename Fn>
void forEachBlock(std::size_t count, const Fn& fn) {
    const std::size_t blocks = (count + kBlock - 1) / kBlock;
    const std::size_t threads =
        std::max<std::size_t>(1, std::min<std::size_t>(blocks, std::thread::hardware_concurrency()));
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t b = next++; b < blocks; b = next++) fn(b, b * kBlock, std::min(count, (b + 1) * kBlock));
    };
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
}

// The median of `values` (reordered); the mean of the two middle ones for an even count.
template <typename T>
T medianOf(std::vector<T>& values) {
    const std::size_t mid = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
    const T upper = values[mid];
    if (values.size() % 2 == 1) return upper;
    const T lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
    return (lower + upper) * T(0.5);
}

}  // namespace

int RobustStep::clippedUnits() const {
    return static_cast<int>(std::count_if(units.begin(), units.end(), [](const UnitVerdict& u) { return u.clipped; }));
}

int RobustStep::outlierUnits() const {
    return static_cast<int>(std::count_if(units.begin(), units.end(), [](const UnitVerdict& u) { return u.outlier; }));
}

RobustStep centredClip(const std::vector<std::pair<ledger::WorkUnitId, const StoredResult*>>& results,
                       const RobustOptions& options) {
    RAVEN_CHECK(!results.empty(), "robust aggregation of a step without results", "");
    RAVEN_CHECK(options.clipMultiplier > 0.0 && options.outlierMultiplier > 0.0,
                "robust aggregation: the clip and outlier multipliers must be positive", "");
    const std::size_t units = results.size();
    const std::size_t parameters = results.front().second->gradient.size();
    std::vector<float> inverseSamples(units);
    for (std::size_t i = 0; i < units; ++i) {
        const StoredResult& r = *results[i].second;
        RAVEN_CHECK(r.gradient.size() == parameters,
                    "robust aggregation: work unit " + std::to_string(results[i].first) + " holds " +
                        std::to_string(r.gradient.size()) + " values instead of " + std::to_string(parameters),
                    "");
        RAVEN_CHECK(r.samples > 0, "robust aggregation: work unit " + std::to_string(results[i].first) +
                                       " covers no samples", "");
        inverseSamples[i] = 1.0f / static_cast<float>(r.samples);
    }
    auto meanAt = [&](std::size_t i, std::size_t j) { return results[i].second->gradient[j] * inverseSamples[i]; };

    // The centre and each unit's squared distance to it, block by block.
    std::vector<float> centre(parameters);
    const std::size_t blocks = (parameters + kBlock - 1) / kBlock;
    std::vector<double> partial(blocks * units, 0.0);  // [block][unit]
    forEachBlock(parameters, [&](std::size_t block, std::size_t begin, std::size_t end) {
        std::vector<float> column(units);
        double* sums = partial.data() + block * units;
        for (std::size_t j = begin; j < end; ++j) {
            for (std::size_t i = 0; i < units; ++i) column[i] = meanAt(i, j);
            centre[j] = medianOf(column);
            for (std::size_t i = 0; i < units; ++i) {
                const double d = static_cast<double>(meanAt(i, j)) - static_cast<double>(centre[j]);
                sums[i] += d * d;
            }
        }
    });

    RobustStep step;
    step.units.resize(units);
    std::vector<double> distances(units, 0.0);
    for (std::size_t i = 0; i < units; ++i) {
        double squared = 0.0;
        for (std::size_t b = 0; b < blocks; ++b) squared += partial[b * units + i];
        distances[i] = std::sqrt(squared);
    }
    std::vector<double> ordered = distances;  // medianOf reorders; distances[i] stay the units'
    step.medianDistance = medianOf(ordered);
    step.radius = options.clipMultiplier * step.medianDistance;
    // A unit of fewer samples is noisier and lies farther off by nature (as 1 / sqrt(samples)): an
    // outlier is judged on the distance scaled back to the same number of samples.
    std::vector<double> spreads(units);
    for (std::size_t i = 0; i < units; ++i)
        spreads[i] = distances[i] * std::sqrt(static_cast<double>(results[i].second->samples));
    // A ratio to the median, not a count of deviations: honest units' spreads are heavy-tailed
    // (a few hard samples dominate a unit's gradient), up to ~3x the median in a measured MLP run
    // while the median absolute deviation swung between 4% and 26% of the median.
    ordered = spreads;
    const double medianSpread = medianOf(ordered);
    const double outlierBeyond = options.outlierMultiplier * medianSpread;
    std::vector<float> scale(units, 1.0f);
    for (std::size_t i = 0; i < units; ++i) {
        UnitVerdict& v = step.units[i];
        v.unit = results[i].first;
        v.contributor = results[i].second->contributor;
        v.distance = distances[i];
        v.clipped = distances[i] > step.radius;
        // A step whose units mostly agree exactly (median 0) has no scale to judge outliers by.
        v.outlier = medianSpread > 0.0 && spreads[i] > outlierBeyond;
        if (v.clipped) scale[i] = static_cast<float>(step.radius / distances[i]);
        // So far off that no honest unit was ever seen there: its pull is dropped, not just
        // clipped (it counts as the centre). Three poisoners of ten, each clipped to tau, still
        // cost the MLP 14 points of accuracy (bench/verification/robust.sh).
        if (v.outlier) scale[i] = 0.0f;
    }

    // sum_i n_i * (c + s_i * (g_i / n_i - c)), in unit order for every coordinate (s_i = 0 for an
    // outlier).
    step.gradientSum.assign(parameters, 0.0f);
    forEachBlock(parameters, [&](std::size_t, std::size_t begin, std::size_t end) {
        for (std::size_t j = begin; j < end; ++j) {
            float sum = 0.0f;
            for (std::size_t i = 0; i < units; ++i) {
                const float towards = centre[j] + scale[i] * (meanAt(i, j) - centre[j]);
                sum += static_cast<float>(results[i].second->samples) * towards;
            }
            step.gradientSum[j] = sum;
        }
    });
    return step;
}

}  // namespace raven::coordinator
