// Fused optimizer steps of the CPU backend. A step composed of elementwise kernels reads and writes
// every parameter-sized array about fourteen times; this reads the four inputs and writes the three
// outputs once, which for a small model is a third of the training step.
#include <cmath>

#include "base/Error.h"
#include "cpu/CpuBackend.h"
#include "cpu/ElementwiseMath.h"

namespace raven {

namespace {
constexpr int64_t kAdamGrain = 1 << 14;

// Contiguous data of t, or a contiguous copy held in `keep`.
const float* contiguousData(const Tensor& t, Tensor& keep) {
    keep = t.contiguous();
    return CpuBackend::hostData(keep);
}
}  // namespace

AdamStepResult CpuBackend::adamStep(const Tensor& param, const Tensor& grad, const Tensor& expAvg,
                                    const Tensor& expAvgSq, const AdamConstants& c) {
    RAVEN_ASSERT(param.shape() == grad.shape(), "adamStep: parameter and gradient shapes differ");
    RAVEN_ASSERT(expAvg.defined() == expAvgSq.defined(), "adamStep: one moment without the other");
    RAVEN_ASSERT(!expAvg.defined() || (expAvg.shape() == param.shape() && expAvgSq.shape() == param.shape()),
                 "adamStep: moment shapes differ from the parameter's");
    Tensor keepP, keepG, keepM, keepV;
    const float* p = contiguousData(param, keepP);
    const float* g = contiguousData(grad, keepG);
    const bool first = !expAvg.defined();
    const float* m = first ? nullptr : contiguousData(expAvg, keepM);
    const float* v = first ? nullptr : contiguousData(expAvgSq, keepV);
    AdamStepResult r{empty(param.shape()), empty(param.shape()), empty(param.shape())};
    float* po = hostData(r.param);
    float* mo = hostData(r.expAvg);
    float* vo = hostData(r.expAvgSq);
    const bool coupled = c.weightDecay != 0.0f, decoupled = c.decayFactor != 1.0f;
    // Each line is one elementwise kernel of nn/Adam.cpp's composed step, rounded to float in turn; M
    // supplies sqrt and division (the fast mode's <cmath>, or VerifiableMath, branch-free so that the
    // loop vectorizes in the verifiable mode too).
    const auto pass = [&]<class M>(M) {
        pool_->parallelFor(param.numel(), kAdamGrain, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) {
                float pi = p[i], gi = g[i];
                if (decoupled) pi = pi * c.decayFactor;
                if (coupled) {
                    const float decay = p[i] * c.weightDecay;
                    gi = gi + decay;
                }
                const float ga = gi * c.oneMinusBeta1;
                const float mi = first ? ga : m[i] * c.beta1 + ga;
                const float gg = gi * gi;
                const float gga = gg * c.oneMinusBeta2;
                const float vi = first ? gga : v[i] * c.beta2 + gga;
                const float root = M::sqrt(vi);
                const float denom = root * c.invSqrtCorrection2 + c.eps;
                const float ratio = M::div(mi, denom);
                const float stepped = ratio * c.stepSize;
                po[i] = pi - stepped;
                mo[i] = mi;
                vo[i] = vi;
            }
        });
    };
    if (kernelMode_ == KernelMode::Verifiable)
        pass(cpu::math::VerifiableMath{});
    else
        pass(cpu::math::LibmMath{});
    return r;
}

AdamUpdate CpuBackend::adamUpdate(const Tensor& param, const Tensor& grad, const Tensor& expAvg, const Tensor& expAvgSq,
                                  const AdamStepScalars& s) {
    // In the verifiable mode too the fused pass gives the composed step's bits (its sqrt and division
    // are then VerifiableMath's, as the elementwise kernels' are): tests/tensor checks it.
    if (expAvg.defined() != expAvgSq.defined()) return Backend::adamUpdate(param, grad, expAvg, expAvgSq, s);
    AdamConstants c;
    c.beta1 = s.beta1;
    c.oneMinusBeta1 = s.oneMinusBeta1;
    c.beta2 = s.beta2;
    c.oneMinusBeta2 = s.oneMinusBeta2;
    c.invSqrtCorrection2 = s.invSqrtCorrection2;
    c.eps = s.eps;
    c.stepSize = s.stepSize;
    c.weightDecay = s.weightDecay;
    c.decayFactor = s.decayFactor;
    AdamStepResult r = adamStep(param, grad, expAvg, expAvgSq, c);
    return {r.param, r.expAvg, r.expAvgSq};
}

}  // namespace raven
