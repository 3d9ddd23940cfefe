#pragma once
// Finite-difference gradient checker for any differentiable function of Variables, shared by the
// test suites (the layer ops reuse it).
//
// For f: inputs -> output, it draws a random upstream gradient r (output-shaped, seeded), runs
// backward(r) once to get every input's analytic gradient of L = sum(f(x) * r), and compares each
// element with the central difference (L(x + eps e_i) - L(x - eps e_i)) / (2 eps). The forward values
// are float32 (the backend's), but L is summed in double on the host, so the difference is limited by
// float32 rounding of f's outputs, not by the summation. Inputs should be small (each element costs
// two forward passes) and away from kinks (relu at 0, ties of max) by more than eps.
//
//   auto result = raven::test::checkGradients(
//       [](const std::vector<Variable>& v) { return matmul(v[0], v[1]); },
//       {randn({3, 4}, gen), randn({4, 2}, gen)});
//   QVERIFY2(result.ok, result.report.c_str());
#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/Variable.h"
#include "tensor/Random.h"
#include "tensor/TensorOps.h"

namespace raven::test {

struct GradCheckOptions {
    float eps = 1e-2f;   // step of the central difference
    double atol = 2e-3;  // |numeric - analytic| <= atol + rtol * |numeric|
    double rtol = 2e-2;
    uint64_t seed = 1234;  // of the upstream gradient
    // Inputs that get no gradient check (e.g. integer targets passed as tensors).
    std::vector<bool> skip;
};

struct GradCheckResult {
    bool ok = true;
    double worstError = 0.0;  // largest |numeric - analytic| / (atol + rtol * |numeric|)
    std::string report;       // what failed, element by element (first few)
};

using DifferentiableFn = std::function<Variable(const std::vector<Variable>&)>;

inline double weightedSum(const Tensor& out, const std::vector<float>& r) {
    const std::vector<float> values = out.toVector();
    double s = 0.0;
    for (size_t i = 0; i < values.size(); ++i) s += static_cast<double>(values[i]) * static_cast<double>(r[i]);
    return s;
}

inline GradCheckResult checkGradients(const DifferentiableFn& f, const std::vector<Tensor>& inputs,
                                      const GradCheckOptions& options = {}) {
    GradCheckResult result;
    auto skipped = [&](size_t i) { return i < options.skip.size() && options.skip[i]; };

    std::vector<Variable> vars;
    for (size_t i = 0; i < inputs.size(); ++i) vars.emplace_back(inputs[i].clone(), !skipped(i));
    const Variable out = f(vars);
    Generator gen(options.seed);
    const Tensor upstream = uniform(out.shape(), -1.0f, 1.0f, gen, out.tensor().backend());
    const std::vector<float> r = upstream.toVector();
    out.backward(upstream);

    std::ostringstream report;
    int reported = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (skipped(i)) continue;
        const std::vector<float> base = inputs[i].toVector();
        std::vector<float> analytic(base.size(), 0.0f);
        if (vars[i].hasGrad()) analytic = vars[i].grad().toVector();
        for (size_t j = 0; j < base.size(); ++j) {
            auto evaluate = [&](float value) {
                std::vector<float> moved = base;
                moved[j] = value;
                std::vector<Variable> args;
                for (size_t k = 0; k < inputs.size(); ++k) {
                    args.emplace_back(k == i ? fromVector(inputs[k].shape(), moved, inputs[k].backend()) : inputs[k]);
                }
                NoGradGuard noGrad;
                return weightedSum(f(args).tensor(), r);
            };
            // The actual step is what float32 can represent, not eps itself.
            const float up = base[j] + options.eps, down = base[j] - options.eps;
            const double numeric =
                (evaluate(up) - evaluate(down)) / (static_cast<double>(up) - static_cast<double>(down));
            const double error = std::fabs(numeric - static_cast<double>(analytic[j]));
            const double allowed = options.atol + options.rtol * std::fabs(numeric);
            result.worstError = std::max(result.worstError, error / allowed);
            if (error > allowed) {
                result.ok = false;
                if (reported++ < 8) {
                    report << "input " << i << " " << shapeToString(inputs[i].shape()) << " element " << j
                           << ": numeric " << numeric << ", analytic " << analytic[j] << "\n";
                }
            }
        }
    }
    result.report = report.str();
    return result;
}

}  // namespace raven::test
