#include "data/Split.h"

#include "base/Error.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace raven::data {

namespace {
struct SplitMix64 {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, bound) without modulo bias (rejection of the short last bucket).
    std::uint64_t below(std::uint64_t bound) {
        const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
        std::uint64_t r;
        do r = next();
        while (r >= limit);
        return r % bound;
    }
};
}  // namespace

std::vector<std::int64_t> seededPermutation(std::int64_t n, std::uint64_t seed) {
    std::vector<std::int64_t> p(static_cast<std::size_t>(n));
    std::iota(p.begin(), p.end(), 0);
    SplitMix64 rng{seed};
    for (std::int64_t i = n - 1; i > 0; --i) {
        const auto j = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(i) + 1));
        std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(j)]);
    }
    return p;
}

std::pair<Samples, Samples> splitSamples(const Samples& all, double testFraction, std::uint64_t seed) {
    RAVEN_CHECK(testFraction >= 0.0 && testFraction < 1.0,
                "test fraction " + std::to_string(testFraction) + " is outside [0, 1)",
                "give the share of samples to hold out for testing, e.g. 0.1");
    const auto n = all.count();
    auto testCount = static_cast<std::int64_t>(std::llround(testFraction * double(n)));
    if (testFraction > 0 && n >= 2) testCount = std::clamp<std::int64_t>(testCount, 1, n - 1);
    const auto perm = seededPermutation(n, seed);
    const std::span<const std::int64_t> order(perm);
    return {all.gather(order.subspan(static_cast<std::size_t>(testCount))),
            all.gather(order.first(static_cast<std::size_t>(testCount)))};
}

}  // namespace raven::data
