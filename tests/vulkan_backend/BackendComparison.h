#pragma once
// Comparing a Vulkan result with the CPU backend's: the same host data on both backends, the same
// views applied to both, and the normalized mean squared error of the results (common/ErrorMetric.h).
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "common/ErrorMetric.h"
#include "tensor/Tensor.h"

namespace raven::test {

inline std::vector<float> randomValues(int64_t n, unsigned seed, float low = -2.0f, float high = 2.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(low, high);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = dist(rng);
    return v;
}

// A view of a freshly uploaded tensor (transpose, narrow, expand...), applied alike on both backends.
using ViewFn = std::function<Tensor(const Tensor&)>;
inline Tensor identityView(const Tensor& t) { return t; }

// The view with every dimension in reverse order (a view that coalesces into nothing simpler).
inline Tensor permuteReverse(const Tensor& t) {
    std::vector<int64_t> order;
    for (int64_t d = t.dim(); d-- > 0;) order.push_back(d);
    return t.permute(order);
}

}  // namespace raven::test
