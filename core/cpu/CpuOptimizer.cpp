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

// Adam over n elements. Each line is one elementwise kernel of nn/Adam.cpp's composed step, rounded to
// float in turn; M supplies sqrt and division (the fast mode's <cmath>, or VerifiableMath). A function of
// its own, with the flags as template arguments, the constants by value and the arrays `__restrict`
// (the outputs are new tensors): GCC vectorizes it then (this loop once ran one element at a time,
// inlined into its callers with the flags as branches and the constants read through references that
// might alias the stores). The verifiable mode's sqrt and division are the CPU's own instructions, as
// the fast mode's (VerifiableMath's are correctly rounded: ElementwiseMath.h). Lanes are independent
// elements: the same bits.
template <class M, bool First, bool Coupled, bool Decoupled>
[[gnu::always_inline]] inline void adamRange(const float* __restrict p, const float* __restrict g,
                                             const float* __restrict m, const float* __restrict v, float* __restrict po,
                                             float* __restrict mo, float* __restrict vo, int64_t n,
                                             const AdamConstants k) {
    for (int64_t i = 0; i < n; ++i) {
        float pi = p[i], gi = g[i];
        if constexpr (Decoupled) pi = pi * k.decayFactor;
        if constexpr (Coupled) {
            const float decay = p[i] * k.weightDecay;
            gi = gi + decay;
        }
        const float ga = gi * k.oneMinusBeta1;
        float mi = ga;
        if constexpr (!First) mi = m[i] * k.beta1 + ga;
        const float gg = gi * gi;
        const float gga = gg * k.oneMinusBeta2;
        float vi = gga;
        if constexpr (!First) vi = v[i] * k.beta2 + gga;
        const float root = M::sqrt(vi);
        const float denom = root * k.invSqrtCorrection2 + k.eps;
        const float ratio = M::div(mi, denom);
        const float stepped = ratio * k.stepSize;
        po[i] = pi - stepped;
        mo[i] = mi;
        vo[i] = vi;
    }
}

// The verifiable pass, compiled for AVX-512, AVX2 and generic x86-64 and picked when the program loads
// (as VerifiableGemm.cpp's product): 16 lanes instead of 4, and its NaN canonicalization. Each lane
// computes the same rounded operations (no FMA: -ffp-contract=off), so the bits are those of any other
// build; the verifiable_step_* golden hashes, computed before any of this was vectorized, check it.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
void adamRangeVerifiable(const float* p, const float* g, const float* m, const float* v, float* po, float* mo,
                         float* vo, int64_t n, const AdamConstants k, bool first, bool coupled, bool decoupled) {
    // Spelled out rather than through a lambda: a lambda would be a function of its own, outside the clones.
    using M = cpu::math::VerifiableMath;
    if (first) {
        if (coupled && decoupled)
            adamRange<M, true, true, true>(p, g, m, v, po, mo, vo, n, k);
        else if (coupled)
            adamRange<M, true, true, false>(p, g, m, v, po, mo, vo, n, k);
        else if (decoupled)
            adamRange<M, true, false, true>(p, g, m, v, po, mo, vo, n, k);
        else
            adamRange<M, true, false, false>(p, g, m, v, po, mo, vo, n, k);
    } else {
        if (coupled && decoupled)
            adamRange<M, false, true, true>(p, g, m, v, po, mo, vo, n, k);
        else if (coupled)
            adamRange<M, false, true, false>(p, g, m, v, po, mo, vo, n, k);
        else if (decoupled)
            adamRange<M, false, false, true>(p, g, m, v, po, mo, vo, n, k);
        else
            adamRange<M, false, false, false>(p, g, m, v, po, mo, vo, n, k);
    }
}

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
    const float* pIn = contiguousData(param, keepP);
    const float* gIn = contiguousData(grad, keepG);
    const bool first = !expAvg.defined();
    const float* mIn = first ? nullptr : contiguousData(expAvg, keepM);
    const float* vIn = first ? nullptr : contiguousData(expAvgSq, keepV);
    AdamStepResult r{empty(param.shape()), empty(param.shape()), empty(param.shape())};
    float* poOut = hostData(r.param);
    float* moOut = hostData(r.expAvg);
    float* voOut = hostData(r.expAvgSq);
    const bool coupled = c.weightDecay != 0.0f, decoupled = c.decayFactor != 1.0f;
    if (kernelMode_ == KernelMode::Verifiable) {
        pool_->parallelFor(param.numel(), kAdamGrain, [&](int64_t begin, int64_t end) {
            adamRangeVerifiable(pIn + begin, gIn + begin, first ? nullptr : mIn + begin, first ? nullptr : vIn + begin,
                                poOut + begin, moOut + begin, voOut + begin, end - begin, c, first, coupled, decoupled);
        });
        return r;
    }
    const auto pass = [&]<bool First, bool Coupled, bool Decoupled>() {
        pool_->parallelFor(param.numel(), kAdamGrain, [&](int64_t begin, int64_t end) {
            adamRange<cpu::math::LibmMath, First, Coupled, Decoupled>(
                pIn + begin, gIn + begin, first ? nullptr : mIn + begin, first ? nullptr : vIn + begin, poOut + begin,
                moOut + begin, voOut + begin, end - begin, c);
        });
    };
    const auto decayed = [&]<bool First>() {
        if (coupled && decoupled)
            pass.template operator()<First, true, true>();
        else if (coupled)
            pass.template operator()<First, true, false>();
        else if (decoupled)
            pass.template operator()<First, false, true>();
        else
            pass.template operator()<First, false, false>();
    };
    if (first)
        decayed.template operator()<true>();
    else
        decayed.template operator()<false>();
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
