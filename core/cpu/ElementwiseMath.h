#pragma once
// Internal to raven_cpu: the per-element functions of the elementwise kernels, in one place, so that
// the transcendental functions a result depends on are chosen here and nowhere else (the seam for a
// later "verifiable" mode with Raven's own exp/log/tanh).
#include <cmath>
#include <numbers>

namespace raven::cpu::math {

inline constexpr float kSqrt2OverPi = 0.7978845608028654f;  // sqrt(2 / pi)
inline constexpr float kGeluCubic = 0.044715f;
inline constexpr float kInvSqrt2 = 0.7071067811865476f;
inline constexpr float kInvSqrt2Pi = 0.3989422804014327f;  // 1 / sqrt(2 pi)

inline float sigmoid(float x) {
    // Never exponentiates a positive number, so it cannot overflow.
    if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
    const float e = std::exp(x);
    return e / (1.0f + e);
}

inline float geluTanh(float x) {
    const float inner = kSqrt2OverPi * (x + kGeluCubic * x * x * x);
    return 0.5f * x * (1.0f + std::tanh(inner));
}

inline float geluTanhGrad(float x) {
    const float inner = kSqrt2OverPi * (x + kGeluCubic * x * x * x);
    const float t = std::tanh(inner);
    const float dInner = kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x * x);
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * dInner;
}

inline float geluErf(float x) { return 0.5f * x * (1.0f + std::erf(x * kInvSqrt2)); }

inline float geluErfGrad(float x) {
    const float cdf = 0.5f * (1.0f + std::erf(x * kInvSqrt2));
    const float pdf = kInvSqrt2Pi * std::exp(-0.5f * x * x);
    return cdf + x * pdf;
}

}  // namespace raven::cpu::math
