// verifiable_math.glsl: the transcendental functions, division and square root of the verifiable
// kernel mode, the line-by-line twin of core/cpu/kernels/VerifiableMath.h (read its header for the
// why and the accuracy). Each line here is that file's line with GLSL's spelling: `precise` on every
// float (no fused multiply-add may form), `out int` for `int&`, `const int` for `constexpr int`.
// tests/cpu_kernels/tst_verifiable_math checks that the two files still correspond line by line.
#ifndef RAVEN_VERIFIABLE_MATH_GLSL
#define RAVEN_VERIFIABLE_MATH_GLSL

const int kAbsMask = 0x7fffffff;
const int kInfBits = 0x7f800000;
const int kNanBits = 0x7fc00000;

bool vIsNan(float x) { return (floatBitsToInt(x) & kAbsMask) > kInfBits; }
bool vIsInf(float x) { return (floatBitsToInt(x) & kAbsMask) == kInfBits; }
precise float vAbs(float x) { return intBitsToFloat(floatBitsToInt(x) & kAbsMask); }
// The sign bit of x alone, as an int (0 or the top bit).
int signBit(float x) { return (floatBitsToInt(x) >> 31) << 31; }
precise float withSign(float magnitude, int sign) { return intBitsToFloat(floatBitsToInt(magnitude) | sign); }
precise float copySign(float magnitude, float sign) { return withSign(vAbs(magnitude), signBit(sign)); }

// 2^e, exactly, for e in [-126, 127].
precise float exp2i(int e) { return intBitsToFloat((e + 127) << 23); }

// x 2^e in two exact steps and one rounding, for e in [-252, 254].
precise float scaleByPow2(float x, int e) {
    int e1 = e / 2;
    precise float y = x * exp2i(e1);
    precise float r = y * exp2i(e - e1);
    return r;
}

// x = m 2^e with m in [1, 2), for x finite and > 0 (subnormals included).
precise float splitExponent(float x, out int e) {
    int bits = floatBitsToInt(x);
    int biased = bits >> 23;
    int shift = 0;
    if (biased == 0) {
        precise float scaled = x * 16777216.0f;  // 2^24: a subnormal becomes normal, exactly
        bits = floatBitsToInt(scaled);
        biased = bits >> 23;
        shift = 24;
    }
    e = biased - 127 - shift;
    precise float m = intBitsToFloat((bits & 0x007fffff) | 0x3f800000);
    return m;
}

// a / b for any a, b (IEEE's special cases). Within 1 ulp of the correctly rounded quotient.
precise float vDiv(float a, float b) {
    if (vIsNan(a) || vIsNan(b)) return intBitsToFloat(kNanBits);
    int sign = signBit(a) ^ signBit(b);
    precise float aa = vAbs(a);
    precise float ab = vAbs(b);
    if (ab == 0.0f) return aa == 0.0f ? intBitsToFloat(kNanBits) : withSign(intBitsToFloat(kInfBits), sign);
    if (vIsInf(ab)) return vIsInf(aa) ? intBitsToFloat(kNanBits) : withSign(0.0f, sign);
    if (vIsInf(aa)) return withSign(intBitsToFloat(kInfBits), sign);
    if (aa == 0.0f) return withSign(0.0f, sign);
    int ea = 0;
    int eb = 0;
    precise float ma = splitExponent(aa, ea);
    precise float mb = splitExponent(ab, eb);
    // 1 / mb on [1, 2): a linear start (error < 1/17), then three Newton steps y' = y + y (1 - mb y).
    precise float y = 1.4117647f - 0.47058824f * mb;
    for (int i = 0; i < 3; ++i) {
        precise float residual = 1.0f - mb * y;
        y = y + y * residual;
    }
    precise float q = ma * y;
    precise float remainder = ma - q * mb;
    q = q + remainder * y;
    int e = ea - eb;
    if (e > 128) return withSign(intBitsToFloat(kInfBits), sign);
    if (e < -152) return withSign(0.0f, sign);
    precise float r = scaleByPow2(q, e);
    return withSign(r, sign);
}

// sqrt(x); -0 stays -0, x < 0 gives NaN. Within 1 ulp of the correctly rounded root.
precise float vSqrt(float x) {
    if (vIsNan(x) || x < 0.0f) return intBitsToFloat(kNanBits);
    if (x == 0.0f || vIsInf(x)) return x;
    int e = 0;
    precise float m = splitExponent(x, e);
    if ((e & 1) != 0) {
        m = m * 2.0f;
        e = e - 1;
    }
    // 1 / sqrt(m) on [1, 4): a linear start (error < 14%), then five Newton steps y' = y (1.5 - 0.5 m y^2).
    precise float y = 1.1f - 0.15f * m;
    for (int i = 0; i < 5; ++i) {
        precise float my2 = m * y * y;
        precise float factor = 1.5f - 0.5f * my2;
        y = y * factor;
    }
    precise float s = m * y;
    precise float remainder = m - s * s;
    s = s + 0.5f * y * remainder;
    precise float r = s * exp2i(e / 2);
    return r;
}

// e^x. Results below 2^-124 (x < -86.5) are 0, so that no device's handling of subnormals enters.
precise float vExp(float x) {
    if (vIsNan(x)) return x;
    if (x > 88.72283f) return intBitsToFloat(kInfBits);
    if (x < -86.5f) return 0.0f;
    // x = k ln2 + r, |r| <= ln2 / 2: k rounded to nearest even by the 1.5 * 2^23 shifter, ln2 in two
    // parts (the first with trailing zeros, so that k * ln2hi is exact).
    precise float shifted = x * 1.44269504f + 12582912.0f;
    precise float k = shifted - 12582912.0f;
    precise float rHi = x - k * 0.693359375f;
    precise float r = rHi - k * -2.12194440e-4f;
    // e^r by its Taylor series to r^7 (truncation < 6e-9 relative), Horner's order.
    precise float p = 1.98412698e-4f;
    p = p * r + 1.38888889e-3f;
    p = p * r + 8.33333333e-3f;
    p = p * r + 4.16666667e-2f;
    p = p * r + 1.66666667e-1f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    precise float result = scaleByPow2(p, int(k));
    return result;
}

// e^x - 1, accurate near 0 (tanh's small arguments).
precise float vExpm1(float x) {
    if (vAbs(x) >= 0.34657359f) {
        precise float em1 = vExp(x) - 1.0f;
        return em1;
    }
    precise float p = 2.48015873e-5f;
    p = p * x + 1.98412698e-4f;
    p = p * x + 1.38888889e-3f;
    p = p * x + 8.33333333e-3f;
    p = p * x + 4.16666667e-2f;
    p = p * x + 1.66666667e-1f;
    p = p * x + 0.5f;
    precise float px = p * x;
    precise float result = px * x + x;
    return result;
}

// log(x): -inf at 0 (either sign), NaN below 0.
precise float vLog(float x) {
    if (vIsNan(x) || x < 0.0f) return intBitsToFloat(kNanBits);
    if (x == 0.0f) return -intBitsToFloat(kInfBits);
    if (vIsInf(x)) return x;
    int e = 0;
    precise float m = splitExponent(x, e);
    if (m > 1.41421356f) {
        m = m * 0.5f;
        e = e + 1;
    }
    // log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172: the odd series to s^9.
    precise float f = m - 1.0f;
    precise float s = vDiv(f, 2.0f + f);
    precise float z = s * s;
    precise float p = 0.222222222f;
    p = p * z + 0.285714286f;
    p = p * z + 0.4f;
    p = p * z + 0.666666667f;
    precise float pz = p * z;
    precise float logM = pz * s + 2.0f * s;
    precise float fe = float(e);
    precise float lo = fe * -2.12194440e-4f + logM;
    precise float result = fe * 0.693359375f + lo;
    return result;
}

// tanh(x) = (e^2|x| - 1) / (e^2|x| + 1), sign restored; +-1 beyond |x| = 9.
precise float vTanh(float x) {
    precise float a = vAbs(x);
    if (a > 9.0f) return copySign(1.0f, x);
    precise float em1 = vExpm1(2.0f * a);
    precise float t = vDiv(em1, em1 + 2.0f);
    return copySign(t, x);
}

// 1 / (1 + e^-x), never exponentiating a positive number.
precise float vSigmoid(float x) {
    if (x >= 0.0f) {
        precise float e = vExp(-x);
        precise float r = vDiv(1.0f, 1.0f + e);
        return r;
    }
    precise float e = vExp(x);
    precise float r = vDiv(e, 1.0f + e);
    return r;
}

// erf(x): the Taylor series below |x| = 0.5, Abramowitz and Stegun 7.1.26 (|error| < 1.5e-7) above,
// +-1 beyond |x| = 3.92 (where erf rounds to 1).
precise float vErf(float x) {
    precise float a = vAbs(x);
    if (a < 0.5f) {
        precise float z = x * x;
        precise float p = 1.20553498e-4f;
        p = p * z - 8.54832702e-4f;
        p = p * z + 5.22397762e-3f;
        p = p * z - 2.68661702e-2f;
        p = p * z + 1.12837917e-1f;
        p = p * z - 3.76126389e-1f;
        p = p * z + 1.12837917f;
        precise float r = p * x;
        return r;
    }
    if (a >= 3.92f) return copySign(1.0f, x);
    precise float t = vDiv(1.0f, 1.0f + 0.3275911f * a);
    precise float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    precise float e = vExp(-(a * a));
    precise float pt = p * t;
    precise float y = 1.0f - pt * e;
    return copySign(y, x);
}

// x^s with <cmath>'s rules for the signs (an integer exponent keeps a negative base's sign when odd, a
// fractional one gives NaN), through e^(s log|x|).
precise float vPow(float x, float s) {
    if (s == 0.0f) return 1.0f;
    if (vIsNan(x) || vIsNan(s)) return intBitsToFloat(kNanBits);
    bool integer = floor(s) == s;
    if (x < 0.0f && !integer) return intBitsToFloat(kNanBits);
    bool odd = integer && vAbs(s) < 16777216.0f && (int(s) & 1) != 0;
    precise float a = vAbs(x);
    precise float r = 0.0f;
    if (a == 0.0f) {
        r = s > 0.0f ? 0.0f : intBitsToFloat(kInfBits);
    } else if (vIsInf(a)) {
        r = s > 0.0f ? intBitsToFloat(kInfBits) : 0.0f;
    } else {
        precise float l = vLog(a);
        precise float sl = s * l;
        r = vExp(sl);
    }
    return odd ? withSign(r, signBit(x)) : r;
}

#endif
