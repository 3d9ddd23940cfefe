#pragma once
// VerifiableMath: the transcendental functions, division and square root of the verifiable kernel mode
// (tensor/KernelMode.h), one implementation for the CPU and the GPU: this file and
// compute-shaders/include/verifiable_math.glsl read line by line alike (glm mirrors GLSL's types and
// functions), so that a verifier with either gets the same bits.
//
// Why not the platform's: libm's expf/logf/tanhf differ between versions and between the FMA and
// non-FMA variants glibc picks per CPU, a driver's exp, log and division are accurate only to a few
// ulp and differ between vendors, and GLSL's sqrt and division are not correctly rounded. Here every
// result is computed from integer bit operations and correctly rounded + - x only (IEEE 754 binary32,
// round to nearest even), in a fixed order, so it depends on the argument alone. Requirements: no
// contraction into fused multiply-adds (C++: -ffp-contract=off; GLSL: `precise`), no fast-math, and
// subnormal numbers kept (the device gate checks it, docs/verification.md). Accuracy: division and
// square root are correctly rounded (integer arithmetic), so that the CPU may use its own instructions
// for them (IEEE 754 requires those to be correctly rounded: cpu/ElementwiseMath.h) and get these bits;
// the others are within a few ulp of the correctly rounded value (the op table's tolerance,
// tests/common/OpCases.h): exactness is not their aim, equality everywhere is.
//
// Conventions kept by both files: every float temporary is a named variable (`precise` in GLSL), no
// expression is split across the two differently, and constants are written with the same digits.
#include <glm/glm.hpp>

#if defined(__FAST_MATH__)
#error "VerifiableMath.h needs IEEE arithmetic: build this translation unit without -ffast-math"
#endif

namespace raven::verifiable {

using glm::clamp;
using glm::floatBitsToInt;
using glm::floor;
using glm::intBitsToFloat;

inline constexpr int kAbsMask = 0x7fffffff;
inline constexpr int kInfBits = 0x7f800000;
inline constexpr int kNanBits = 0x7fc00000;

inline bool vIsNan(float x) { return (floatBitsToInt(x) & kAbsMask) > kInfBits; }
inline bool vIsInf(float x) { return (floatBitsToInt(x) & kAbsMask) == kInfBits; }
inline float vAbs(float x) { return intBitsToFloat(floatBitsToInt(x) & kAbsMask); }
// The sign bit of x alone, as an int (0 or the top bit).
inline int signBit(float x) { return (floatBitsToInt(x) >> 31) << 31; }
inline float withSign(float magnitude, int sign) { return intBitsToFloat(floatBitsToInt(magnitude) | sign); }
inline float copySign(float magnitude, float sign) { return withSign(vAbs(magnitude), signBit(sign)); }

// 2^e, exactly, for e in [-126, 127].
inline float exp2i(int e) { return intBitsToFloat((e + 127) << 23); }

// x 2^e in two exact steps and one rounding, for e in [-252, 254].
inline float scaleByPow2(float x, int e) {
    const int e1 = e / 2;
    const float y = x * exp2i(e1);
    const float r = y * exp2i(e - e1);
    return r;
}

// x = m 2^e with m in [1, 2), for x finite and > 0 (subnormals included). Branch-free (a select),
// as every function below, so that a CPU compiler vectorizes loops over it.
inline float splitExponent(float x, int& e) {
    const float scaled = x * 16777216.0f;  // 2^24: a subnormal becomes normal, exactly
    const bool subnormal = (floatBitsToInt(x) >> 23) == 0;
    const int bits = subnormal ? floatBitsToInt(scaled) : floatBitsToInt(x);
    e = (bits >> 23) - 127 - (subnormal ? 24 : 0);
    const float m = intBitsToFloat((bits & 0x007fffff) | 0x3f800000);
    return m;
}

// x's significand as an integer in [2^23, 2^24), for x finite and > 0: x = n 2^(e - 23).
inline int significandBits(float x, int& e) {
    const float m = splitExponent(x, e);
    const int n = (floatBitsToInt(m) & 0x007fffff) | 0x00800000;
    return n;
}

// The bits of the float nearest to (q + f) 2^(e - 24), ties to even, where q in [2^24, 2^25) holds a
// result's 24 significant bits and the next one, f in [0, 1) is the rest, and sticky says f != 0.
// IEEE 754's rounding, gradual underflow included: below 2^-126 the bits that fit are kept and rounded
// once. e > 127 (overflow) is the caller's to replace; e = 127 may round up to exactly +Inf's bits.
inline int roundedFloatBits(int q, bool sticky, int e) {
    const int shift = clamp(-e - 125, 1, 26);
    const int kept = q >> shift;
    const int guard = (q >> (shift - 1)) & 1;
    const int rest = q & ((1 << (shift - 1)) - 1);
    const int inexact = int(sticky) | int(rest != 0);
    const int roundUp = guard & (inexact | (kept & 1));
    const int biased = clamp(e + 126, 0, 253);
    const int bits = (biased << 23) + kept + roundUp;
    return bits;
}

// a / b for any a, b (IEEE's special cases), correctly rounded: the bits of IEEE 754's division, which
// a CPU's division instruction gives too (cpu/ElementwiseMath.h uses it; GLSL's division is only
// accurate to 2.5 ulp). The quotient of the significands is computed for every argument, in integers;
// the special cases then replace its bits, a NaN operand above all (as the canonical NaN).
inline float vDiv(float a, float b) {
    const int sign = signBit(a) ^ signBit(b);
    const float aa = vAbs(a);
    const float ab = vAbs(b);
    int ea = 0;
    int eb = 0;
    int na = significandBits(aa, ea);
    const int nb = significandBits(ab, eb);
    // na / nb in [1, 2), so that the quotient's exponent is e.
    const int below = int(na < nb);
    na = na << below;
    const int e = ea - eb - below;
    // Restoring division, one bit per step: q = floor(na 2^24 / nb) in [2^24, 2^25), the quotient's 24
    // bits and the next; rem (< 2^26: 32-bit integers suffice on every GPU) is zero iff it is exact.
    int q = 0;
    int rem = na;
    for (int i = 0; i < 25; ++i) {
        const int bit = int(rem >= nb);
        rem = rem - (nb & -bit);
        q = q * 2 + bit;
        rem = rem * 2;
    }
    const float r = intBitsToFloat(roundedFloatBits(q, rem != 0, e));
    // The special cases as integer masks over the result's bits (all ones where a case applies): the
    // function is then straight-line code that a CPU compiler vectorizes (chained selects were not).
    const int overflow = -int(e > 127);
    const int aZero = -int(aa == 0.0f);
    const int bZero = -int(ab == 0.0f);
    const int aInf = -int(vIsInf(aa));
    const int bInf = -int(vIsInf(ab));
    const int nan = -int(vIsNan(a)) | -int(vIsNan(b)) | (aZero & bZero) | (aInf & bInf);
    const int inf = overflow | aInf | bZero;
    const int zero = aZero | bInf;
    int bits = floatBitsToInt(r);
    bits = (bits & ~(zero | inf)) | (inf & kInfBits);
    bits = (bits | sign) & ~nan;
    bits = bits | (nan & kNanBits);
    const float result = intBitsToFloat(bits);
    return result;
}

// sqrt(x), correctly rounded (IEEE 754's, as a CPU's square root instruction; GLSL's is not); -0 stays
// -0, x < 0 gives the canonical NaN.
inline float vSqrt(float x) {
    int e = 0;
    int n = significandBits(x, e);
    // An even exponent: x = n 2^(e - 23) with n in [2^23, 2^25).
    const int odd = e & 1;
    n = n << odd;
    e = e - odd;
    // The root of n 2^25 digit by digit, two bits of the radicand per step (2n's 13 pairs, then 12 pairs
    // of zeros): root = floor(sqrt(n 2^25)) in [2^24, 2^25), the root's 24 bits and the next; rem
    // (< 2^28) is zero iff it is exact. sqrt(x) = sqrt(n 2^25) 2^(e / 2 - 24).
    int radicand = n * 2;
    int root = 0;
    int rem = 0;
    for (int i = 0; i < 25; ++i) {
        const int pair = radicand >> 24;
        radicand = (radicand & 0x00ffffff) * 4;
        rem = rem * 4 + pair;
        const int trial = root * 4 + 1;
        const int bit = int(rem >= trial);
        rem = rem - (trial & -bit);
        root = root * 2 + bit;
    }
    float r = intBitsToFloat(roundedFloatBits(root, rem != 0, e / 2));
    r = (x == 0.0f || vIsInf(x)) ? x : r;
    r = (vIsNan(x) || x < 0.0f) ? intBitsToFloat(kNanBits) : r;
    return r;
}

// e^x. Results below 2^-124 (x < -86.5) are 0, so that no device's handling of subnormals enters.
inline float vExp(float x) {
    if (vIsNan(x)) return x;
    if (x > 88.72283f) return intBitsToFloat(kInfBits);
    if (x < -86.5f) return 0.0f;
    // x = k ln2 + r, |r| <= ln2 / 2: k rounded to nearest even by the 1.5 * 2^23 shifter, ln2 in two
    // parts (the first with trailing zeros, so that k * ln2hi is exact).
    const float shifted = x * 1.44269504f + 12582912.0f;
    const float k = shifted - 12582912.0f;
    const float rHi = x - k * 0.693359375f;
    const float r = rHi - k * -2.12194440e-4f;
    // e^r by its Taylor series to r^7 (truncation < 6e-9 relative), Horner's order.
    float p = 1.98412698e-4f;
    p = p * r + 1.38888889e-3f;
    p = p * r + 8.33333333e-3f;
    p = p * r + 4.16666667e-2f;
    p = p * r + 1.66666667e-1f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const float result = scaleByPow2(p, int(k));
    return result;
}

// e^x - 1, accurate near 0 (tanh's small arguments).
inline float vExpm1(float x) {
    if (vAbs(x) >= 0.34657359f) {
        const float em1 = vExp(x) - 1.0f;
        return em1;
    }
    float p = 2.48015873e-5f;
    p = p * x + 1.98412698e-4f;
    p = p * x + 1.38888889e-3f;
    p = p * x + 8.33333333e-3f;
    p = p * x + 4.16666667e-2f;
    p = p * x + 1.66666667e-1f;
    p = p * x + 0.5f;
    const float px = p * x;
    const float result = px * x + x;
    return result;
}

// log(x): -inf at 0 (either sign), NaN below 0.
inline float vLog(float x) {
    if (vIsNan(x) || x < 0.0f) return intBitsToFloat(kNanBits);
    if (x == 0.0f) return -intBitsToFloat(kInfBits);
    if (vIsInf(x)) return x;
    int e = 0;
    float m = splitExponent(x, e);
    if (m > 1.41421356f) {
        m = m * 0.5f;
        e = e + 1;
    }
    // log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172: the odd series to s^9.
    const float f = m - 1.0f;
    const float s = vDiv(f, 2.0f + f);
    const float z = s * s;
    float p = 0.222222222f;
    p = p * z + 0.285714286f;
    p = p * z + 0.4f;
    p = p * z + 0.666666667f;
    const float pz = p * z;
    const float logM = pz * s + 2.0f * s;
    const float fe = float(e);
    const float lo = fe * -2.12194440e-4f + logM;
    const float result = fe * 0.693359375f + lo;
    return result;
}

// tanh(x) = (e^2|x| - 1) / (e^2|x| + 1), sign restored; +-1 beyond |x| = 9.
inline float vTanh(float x) {
    const float a = vAbs(x);
    if (a > 9.0f) return copySign(1.0f, x);
    const float em1 = vExpm1(2.0f * a);
    const float t = vDiv(em1, em1 + 2.0f);
    return copySign(t, x);
}

// 1 / (1 + e^-x), never exponentiating a positive number.
inline float vSigmoid(float x) {
    if (x >= 0.0f) {
        const float e = vExp(-x);
        const float r = vDiv(1.0f, 1.0f + e);
        return r;
    }
    const float e = vExp(x);
    const float r = vDiv(e, 1.0f + e);
    return r;
}

// erf(x): the Taylor series below |x| = 0.5, Abramowitz and Stegun 7.1.26 (|error| < 1.5e-7) above,
// +-1 beyond |x| = 3.92 (where erf rounds to 1).
inline float vErf(float x) {
    const float a = vAbs(x);
    if (a < 0.5f) {
        const float z = x * x;
        float p = 1.20553498e-4f;
        p = p * z - 8.54832702e-4f;
        p = p * z + 5.22397762e-3f;
        p = p * z - 2.68661702e-2f;
        p = p * z + 1.12837917e-1f;
        p = p * z - 3.76126389e-1f;
        p = p * z + 1.12837917f;
        const float r = p * x;
        return r;
    }
    if (a >= 3.92f) return copySign(1.0f, x);
    const float t = vDiv(1.0f, 1.0f + 0.3275911f * a);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    const float e = vExp(-(a * a));
    const float pt = p * t;
    const float y = 1.0f - pt * e;
    return copySign(y, x);
}

// x^s with <cmath>'s rules for the signs (an integer exponent keeps a negative base's sign when odd, a
// fractional one gives NaN), through e^(s log|x|).
inline float vPow(float x, float s) {
    if (s == 0.0f) return 1.0f;
    if (vIsNan(x) || vIsNan(s)) return intBitsToFloat(kNanBits);
    const bool integer = floor(s) == s;
    if (x < 0.0f && !integer) return intBitsToFloat(kNanBits);
    const bool odd = integer && vAbs(s) < 16777216.0f && (int(s) & 1) != 0;
    const float a = vAbs(x);
    float r = 0.0f;
    if (a == 0.0f) {
        r = s > 0.0f ? 0.0f : intBitsToFloat(kInfBits);
    } else if (vIsInf(a)) {
        r = s > 0.0f ? intBitsToFloat(kInfBits) : 0.0f;
    } else {
        const float l = vLog(a);
        const float sl = s * l;
        r = vExp(sl);
    }
    return odd ? withSign(r, signBit(x)) : r;
}

}  // namespace raven::verifiable
