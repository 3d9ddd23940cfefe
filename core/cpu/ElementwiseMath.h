#pragma once
// Internal to raven_cpu: the per-element functions of the elementwise, softmax and loss kernels, in
// one place, written once over a math policy so that the transcendental functions and the division a
// result depends on are chosen here and nowhere else:
//  - LibmMath (KernelMode::Fast): <cmath> and the hardware's division, the quickest on this machine;
//  - VerifiableMath (KernelMode::Verifiable): cpu/kernels/VerifiableMath.h, the same bits on every
//    CPU and on every GPU that runs compute-shaders/include/verifiable_math.glsl.
// raven_cpu is built with -ffp-contract=off, so no multiply-add below is fused in either mode.
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>

#include "cpu/kernels/VerifiableMath.h"

namespace raven::cpu::math {

struct LibmMath {
    static float exp(float x) { return std::exp(x); }
    static float log(float x) { return std::log(x); }
    static float sqrt(float x) { return std::sqrt(x); }
    static float tanh(float x) { return std::tanh(x); }
    static float erf(float x) { return std::erf(x); }
    static float pow(float x, float s) { return std::pow(x, s); }
    static float div(float a, float b) { return a / b; }
};

// The division and square root of the CPU are IEEE 754's, correctly rounded, and so are vDiv's and vSqrt's
// (the shaders compute them in integers): the same bits, at the cost of one instruction instead of a
// loop of 25 integer steps. Only a NaN's
// bits may differ (x86 gives a negative one, with the operand's payload): made the canonical NaN, as
// vDiv and vSqrt give. tests/cpu_kernels (cpu_verifiable_math) compares the two over every
// significand of the square root and millions of quotients, subnormal ones included.
static_assert(std::numeric_limits<float>::is_iec559, "the verifiable mode needs IEEE 754 binary32 floats");
#if FLT_EVAL_METHOD != 0
#error "the verifiable mode needs float arithmetic rounded to float (FLT_EVAL_METHOD 0: SSE, not x87)"
#endif
inline float canonicalNan(float x) {
    return x != x ? std::bit_cast<float>(static_cast<std::uint32_t>(verifiable::kNanBits)) : x;
}

struct VerifiableMath {
    static float exp(float x) { return verifiable::vExp(x); }
    static float log(float x) { return verifiable::vLog(x); }
    static float sqrt(float x) { return canonicalNan(std::sqrt(x)); }
    static float tanh(float x) { return verifiable::vTanh(x); }
    static float erf(float x) { return verifiable::vErf(x); }
    static float pow(float x, float s) { return verifiable::vPow(x, s); }
    static float div(float a, float b) { return canonicalNan(a / b); }
};

inline constexpr float kSqrt2OverPi = 0.7978845608028654f;  // sqrt(2 / pi)
inline constexpr float kGeluCubic = 0.044715f;
inline constexpr float kInvSqrt2 = 0.7071067811865476f;
inline constexpr float kInvSqrt2Pi = 0.3989422804014327f;  // 1 / sqrt(2 pi)

template <class M>
float sigmoid(float x) {
    // Never exponentiates a positive number, so it cannot overflow.
    if (x >= 0.0f) return M::div(1.0f, 1.0f + M::exp(-x));
    const float e = M::exp(x);
    return M::div(e, 1.0f + e);
}

template <class M>
float geluTanh(float x) {
    const float inner = kSqrt2OverPi * (x + kGeluCubic * x * x * x);
    return 0.5f * x * (1.0f + M::tanh(inner));
}

template <class M>
float geluTanhGrad(float x) {
    const float inner = kSqrt2OverPi * (x + kGeluCubic * x * x * x);
    const float t = M::tanh(inner);
    const float dInner = kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x * x);
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * dInner;
}

template <class M>
float geluErf(float x) {
    return 0.5f * x * (1.0f + M::erf(x * kInvSqrt2));
}

template <class M>
float geluErfGrad(float x) {
    const float cdf = 0.5f * (1.0f + M::erf(x * kInvSqrt2));
    const float pdf = kInvSqrt2Pi * M::exp(-0.5f * x * x);
    return cdf + x * pdf;
}

}  // namespace raven::cpu::math
