#version 450
// The elementwise kernels of the verifiable kernel mode: the twins of core/cpu/CpuElementwise.cpp's
// per-element functions (with cpu/ElementwiseMath.h's compositions), line by line, their
// transcendentals, division and square root from include/verifiable_math.glsl as the CPU's come from
// VerifiableMath.h. One invocation per element of contiguous operands (the host makes strided and
// broadcast views contiguous first, an exact copy); every float `precise` (NoContraction, checked at
// build time). The constants are the CPU's float bits, not decimal literals a compiler could round or
// fold otherwise.
//
// op: a UnaryOp (0..9), 100 + a ScalarOp (with s), or 200 + a BinaryOp (tensor/Backend.h).
#include "verifiable_math.glsl"

layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer Y { float y[]; };
layout(std430, set = 0, binding = 2) writeonly buffer R { float r[]; };

layout(push_constant) uniform Params {
    uint n;
    uint op;
    uint xOffset, yOffset, rOffset;
    float s;
} params;

#define kSqrt2OverPi uintBitsToFloat(0x3f4c422au)     // sqrt(2 / pi)
#define kGeluCubic uintBitsToFloat(0x3d372713u)       // 0.044715
#define kThreeGeluCubic uintBitsToFloat(0x3e095d4eu)  // 3.0f * kGeluCubic, as the CPU's compiler folds it
#define kInvSqrt2 uintBitsToFloat(0x3f3504f3u)        // 1 / sqrt(2)
#define kInvSqrt2Pi uintBitsToFloat(0x3ecc422au)      // 1 / sqrt(2 pi)

// cpu::math::sigmoid: never exponentiates a positive number.
precise float sigmoidOf(float v) {
    if (v >= 0.0) {
        precise float e = vExp(-v);
        precise float d = 1.0 + e;
        return vDiv(1.0, d);
    }
    precise float e = vExp(v);
    precise float d = 1.0 + e;
    return vDiv(e, d);
}

precise float geluTanh(float v) {
    precise float cube = kGeluCubic * v * v * v;
    precise float inner = kSqrt2OverPi * (v + cube);
    precise float t = vTanh(inner);
    return 0.5 * v * (1.0 + t);
}

precise float geluTanhGrad(float v) {
    precise float cube = kGeluCubic * v * v * v;
    precise float inner = kSqrt2OverPi * (v + cube);
    precise float t = vTanh(inner);
    precise float dInner = kSqrt2OverPi * (1.0 + kThreeGeluCubic * v * v);
    return 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * dInner;
}

precise float geluErf(float v) {
    return 0.5 * v * (1.0 + vErf(v * kInvSqrt2));
}

precise float geluErfGrad(float v) {
    precise float cdf = 0.5 * (1.0 + vErf(v * kInvSqrt2));
    precise float pdf = kInvSqrt2Pi * vExp(-0.5 * v * v);
    return cdf + v * pdf;
}

precise float unaryOf(uint op, float v) {
    switch (op) {
        case 0u: return -v;                      // Neg
        case 1u: return vExp(v);                 // Exp
        case 2u: return vLog(v);                 // Log
        case 3u: return vSqrt(v);                // Sqrt
        case 4u: return vAbs(v);                 // Abs (std::fabs: the sign bit cleared)
        case 5u: return vTanh(v);                // Tanh
        case 6u: return sigmoidOf(v);            // Sigmoid
        case 7u: return v > 0.0 ? v : 0.0;       // Relu
        case 8u: return geluTanh(v);             // GeluTanh
        default: return geluErf(v);              // GeluErf
    }
}

precise float scalarOf(uint op, float v, float s) {
    switch (op) {
        case 0u: return v + s;  // Add
        case 1u: return v * s;  // Mul
        default:                // Pow: exact, cheap forms for the common exponents, as on the CPU
            if (s == 2.0) return v * v;
            if (s == 1.0) return v;
            if (s == 0.5) return vSqrt(v);
            return vPow(v, s);
    }
}

precise float binaryOf(uint op, float a, float b) {
    switch (op) {
        case 0u: return a + b;                          // Add
        case 1u: return a - b;                          // Sub
        case 2u: return a * b;                          // Mul
        case 3u: return vDiv(a, b);                     // Div
        case 4u: return a > b ? a : b;                  // Maximum
        case 5u: return a < b ? a : b;                  // Minimum
        case 6u: return a == b ? 1.0 : 0.0;             // Equal
        case 7u: return b > 0.0 ? a : 0.0;              // ReluBackward (a = g, b = x)
        case 8u: return a * (1.0 - b * b);              // TanhBackward (b = y)
        case 9u: return a * b * (1.0 - b);              // SigmoidBackward (b = y)
        case 10u: return a * geluTanhGrad(b);           // GeluTanhBackward (b = x)
        default: return a * geluErfGrad(b);             // GeluErfBackward (b = x)
    }
}

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= params.n) return;
    precise float v = x[params.xOffset + i];
    precise float result;
    if (params.op >= 200u) {
        precise float w = y[params.yOffset + i];
        result = binaryOf(params.op - 200u, v, w);
    } else if (params.op >= 100u) {
        result = scalarOf(params.op - 100u, v, params.s);
    } else {
        result = unaryOf(params.op, v);
    }
    r[params.rOffset + i] = result;
}
