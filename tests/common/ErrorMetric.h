#pragma once
// The one error metric of Raven's backend tests and device checks (the op table, the Vulkan suite,
// `raven-bench-vulkan --what check`), and the bit-exact comparison of the verifiable kernel mode.
// Qt-free, so that the GPU benchmark (built without Qt) judges results exactly as the tests do.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace raven::test {

// sum((got - want)^2) / sum(want^2), in double; the error alone when want is all zeros. NaN must sit
// where want has NaN and an infinity where want has the same infinity, and the sizes must agree, else
// the result is infinity.
inline double normalizedMse(const std::vector<float>& got, const std::vector<float>& want) {
    if (got.size() != want.size()) return std::numeric_limits<double>::infinity();
    double err = 0.0, ref = 0.0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (!std::isfinite(got[i]) || !std::isfinite(want[i])) {
            const bool same = (std::isnan(got[i]) && std::isnan(want[i])) || got[i] == want[i];
            if (!same) return std::numeric_limits<double>::infinity();
            continue;
        }
        const double d = static_cast<double>(got[i]) - static_cast<double>(want[i]);
        err += d * d;
        ref += static_cast<double>(want[i]) * static_cast<double>(want[i]);
    }
    if (ref == 0.0) return err;
    return err / ref;
}

// The index of the first element whose bits differ (any two NaNs count as equal: a verifiable
// result's hash canonicalizes them), or -1 when every element is bit-identical.
inline int64_t firstBitDifference(const std::vector<float>& got, const std::vector<float>& want) {
    if (got.size() != want.size()) return 0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (std::isnan(got[i]) && std::isnan(want[i])) continue;
        std::uint32_t a = 0, b = 0;
        std::memcpy(&a, &got[i], sizeof a);
        std::memcpy(&b, &want[i], sizeof b);
        if (a != b) return static_cast<int64_t>(i);
    }
    return -1;
}

}  // namespace raven::test
