#pragma once
// Helpers shared by the CPU kernel tests: seeded random buffers, thread-splitting ParallelFors and a
// central-difference gradient check that uses a kernel's own forward.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cpu/kernels/Parallel.h"

namespace raven::test {

inline std::vector<float> randomBuffer(size_t count, uint32_t seed, float low = -1.0f, float high = 1.0f) {
    std::mt19937 generator(seed);
    std::uniform_real_distribution<float> distribution(low, high);
    std::vector<float> values(count);
    for (float& v : values) v = distribution(generator);
    return values;
}

// Distinct values at least `gap` apart in random order: max pooling keeps a unique winner under a
// finite-difference step smaller than gap / 2.
inline std::vector<float> distinctBuffer(size_t count, uint32_t seed, float gap = 0.05f) {
    std::vector<float> values(count);
    for (size_t i = 0; i < count; ++i) values[i] = gap * (static_cast<float>(i) - static_cast<float>(count) / 2);
    std::shuffle(values.begin(), values.end(), std::mt19937(seed));
    return values;
}

// Splits [0, n) into `threads` contiguous ranges run on their own std::threads.
inline cpu::kernels::ParallelFor threadedFor(int threads) {
    return [threads](int64_t n, const std::function<void(int64_t, int64_t)>& body) {
        std::vector<std::thread> workers;
        const int64_t per = (n + threads - 1) / threads;
        for (int64_t begin = 0; begin < n; begin += per) workers.emplace_back(body, begin, std::min(n, begin + per));
        for (auto& w : workers) w.join();
    };
}

// Calls body once per item, last item first: the most different schedule from a serial loop.
inline cpu::kernels::ParallelFor reversedItemsFor() {
    return [](int64_t n, const std::function<void(int64_t, int64_t)>& body) {
        for (int64_t i = n - 1; i >= 0; --i) body(i, i + 1);
    };
}

inline double dot(const std::vector<float>& a, const std::vector<float>& b) {
    double sum = 0.0;
    for (size_t i = 0; i < a.size(); ++i) sum += static_cast<double>(a[i]) * b[i];
    return sum;
}

// Compares analytic[i] with (loss(param[i] + step) - loss(param[i] - step)) / (2 step) for every element
// of param, where loss() runs the forward on the current buffers and returns sum(output * weights).
// Returns an empty string when all agree, else a description of the first disagreement.
inline std::string checkGradient(const std::string& what, std::vector<float>& param, const std::vector<float>& analytic,
                                 const std::function<double()>& loss, float step = 1e-2f, double tolerance = 5e-3) {
    if (param.size() != analytic.size()) return what + ": gradient has the wrong size";
    for (size_t i = 0; i < param.size(); ++i) {
        const float saved = param[i];
        param[i] = saved + step;
        const double plus = loss();
        param[i] = saved - step;
        const double minus = loss();
        param[i] = saved;
        const double numeric = (plus - minus) / (2.0 * static_cast<double>(step));
        if (std::abs(numeric - analytic[i]) > tolerance * (1.0 + std::abs(numeric)))
            return what + "[" + std::to_string(i) + "]: backward gives " + std::to_string(analytic[i]) +
                   ", finite differences give " + std::to_string(numeric);
    }
    return {};
}

}  // namespace raven::test
