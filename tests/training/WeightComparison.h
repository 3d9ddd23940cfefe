#pragma once
// Comparing two models' weights, for the tests that check a distributed run against local training.
#include <algorithm>
#include <cmath>
#include <vector>

#include "nn/Model.h"

namespace raven::testing {

// Every parameter's values, in parameter order.
inline std::vector<float> flatWeights(const nn::Model& model) {
    std::vector<float> out;
    for (const nn::NamedVariable& p : model.parameters()) {
        const std::vector<float> v = p.value.tensor().toVector();
        out.insert(out.end(), v.begin(), v.end());
    }
    return out;
}

// max |a - b| / max |b|.
inline double maxRelativeDifference(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0.0, scale = 0.0;
    for (float v : b) scale = std::max(scale, double(std::fabs(v)));
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::fabs(a[i] - b[i])) / scale);
    return worst;
}

}  // namespace raven::testing
