// raven_math.glsl: the ONE set of per-element math every Raven shader uses (exp, log, tanh, erf,
// division, and the activations built from them). Shaders never call exp/log/tanh/'/' directly for
// values that reach a result: this file is the determinism seam of docs (DESIGN.md, "verifiable"
// kernels). Today the routines rest on the driver's exp/log (GLSL allows them a few ULP), so results
// may differ between devices in the last bits; a verifiable mode replaces the bodies below with
// fixed +, -, x sequences without touching any kernel.
//
// Special values follow C's <cmath> (what the CPU backend gives), since GLSL leaves log(0), sqrt(-1),
// pow(-2, 3) and tanh(100) undefined.
#ifndef RAVEN_MATH_GLSL
#define RAVEN_MATH_GLSL

#define R_INF uintBitsToFloat(0x7f800000u)
#define R_NAN uintBitsToFloat(0x7fc00000u)
const float R_SQRT_2_OVER_PI = 0.7978845608028654;
const float R_GELU_CUBIC = 0.044715;
const float R_INV_SQRT_2 = 0.7071067811865476;
const float R_INV_SQRT_2PI = 0.3989422804014327;

float r_div(float a, float b) { return a / b; }

float r_exp(float x) {
    if (isnan(x)) return x;
    if (x > 88.72284) return R_INF;  // above log(FLT_MAX)
    if (x < -103.97208) return 0.0;  // below the smallest denormal
    return exp(x);
}

float r_log(float x) {
    if (isnan(x) || x < 0.0) return R_NAN;
    if (x == 0.0) return -R_INF;
    if (isinf(x)) return R_INF;
    return log(x);
}

float r_sqrt(float x) {
    if (x < 0.0) return R_NAN;
    return sqrt(x);
}

// tanh: an odd polynomial near 0 (Cephes tanhf), 1 - 2 / (e^{2|x|} + 1) elsewhere, +-1 beyond 9.
float r_tanh(float x) {
    if (isnan(x)) return x;
    float t = abs(x);
    if (t < 0.625) {
        float z = x * x;
        float p = ((((-5.70498872745e-3 * z + 2.06390887954e-2) * z - 5.37397155531e-2) * z + 1.33314422036e-1) * z -
                   3.33332819422e-1);
        return p * z * x + x;
    }
    if (t > 9.0) return sign(x);
    float r = 1.0 - r_div(2.0, r_exp(2.0 * t) + 1.0);
    return x < 0.0 ? -r : r;
}

// erf to about 1 ULP (two minimax fits, N. Juffa's erff).
float r_erf(float a) {
    float t = abs(a);
    float s = a * a;
    float r;
    if (t > 0.927734375) {
        r = fma(-1.72853470e-5, t, 3.83197126e-4);
        float u = fma(-3.88396438e-3, t, 2.42546219e-2);
        r = fma(r, s, u);
        r = fma(r, t, -1.06777877e-1);
        r = fma(r, t, -6.34846687e-1);
        r = fma(r, t, -1.28717512e-1);
        r = fma(r, t, -t);
        r = 1.0 - r_exp(r);
        return a < 0.0 ? -r : r;
    }
    r = -5.96761703e-4;
    r = fma(r, s, 4.99119423e-3);
    r = fma(r, s, -2.67681349e-2);
    r = fma(r, s, 1.12819925e-1);
    r = fma(r, s, -3.76125336e-1);
    r = fma(r, s, 1.28379166e-1);
    return fma(r, a, a);
}

// x^y with <cmath>'s rules for negative bases (integer exponents keep the sign) and zero.
float r_pow(float x, float y) {
    if (y == 0.0) return 1.0;
    if (y == 1.0) return x;
    if (y == 2.0) return x * x;
    if (y == 0.5) return r_sqrt(x);
    if (isnan(x) || isnan(y)) return R_NAN;
    bool integer = floor(y) == y;
    bool odd = integer && mod(y, 2.0) == 1.0;
    if (x == 0.0) return y > 0.0 ? 0.0 : R_INF;
    if (x < 0.0 && !integer) return R_NAN;
    float m = r_exp(y * r_log(abs(x)));
    return (x < 0.0 && odd) ? -m : m;
}

// Never exponentiates a positive number, so it cannot overflow.
float r_sigmoid(float x) {
    if (x >= 0.0) return r_div(1.0, 1.0 + r_exp(-x));
    float e = r_exp(x);
    return r_div(e, 1.0 + e);
}

float r_gelu_tanh(float x) {
    float inner = R_SQRT_2_OVER_PI * (x + R_GELU_CUBIC * x * x * x);
    return 0.5 * x * (1.0 + r_tanh(inner));
}

float r_gelu_tanh_grad(float x) {
    float inner = R_SQRT_2_OVER_PI * (x + R_GELU_CUBIC * x * x * x);
    float t = r_tanh(inner);
    float dInner = R_SQRT_2_OVER_PI * (1.0 + 3.0 * R_GELU_CUBIC * x * x);
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dInner;
}

float r_gelu_erf(float x) { return 0.5 * x * (1.0 + r_erf(x * R_INV_SQRT_2)); }

float r_gelu_erf_grad(float x) {
    float cdf = 0.5 * (1.0 + r_erf(x * R_INV_SQRT_2));
    float pdf = R_INV_SQRT_2PI * r_exp(-0.5 * x * x);
    return cdf + x * pdf;
}

#endif
