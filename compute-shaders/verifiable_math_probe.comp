#version 450
// The verifiable math library (include/verifiable_math.glsl) applied elementwise: r[i] = fn(x[i], y[i]).
// What tests/vulkan/VerifiableMathTest.cpp compares bit for bit with the C++ twin on a device, and the
// device gate (core/vulkan/VerifiableGate.h). fn 9 is the contraction discriminator: a `precise`
// a * b + b, which a device must round twice; fn 10-12 are a single +, x and -. A verifiable_* shader: the build checks its
// SPIR-V for float arithmetic without NoContraction (compute-shaders/tools/check_no_contraction.py).
#include "verifiable_math.glsl"

layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer Y { float y[]; };
layout(std430, set = 0, binding = 2) writeonly buffer R { float r[]; };

layout(push_constant) uniform Params {
    uint n;
    uint fn;
} params;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= params.n) return;
    precise float a = x[i];
    precise float b = y[i];
    precise float v = a;
    switch (params.fn) {
        case 0u: v = vExp(a); break;
        case 1u: v = vLog(a); break;
        case 2u: v = vTanh(a); break;
        case 3u: v = vSigmoid(a); break;
        case 4u: v = vErf(a); break;
        case 5u: v = vSqrt(a); break;
        case 6u: v = vDiv(a, b); break;
        case 7u: v = vPow(a, b); break;
        case 8u: v = vExpm1(a); break;
        case 10u: v = a + b; break;
        case 11u: v = a * b; break;
        case 12u: v = a - b; break;
        default: {
            precise float product = a * b;
            v = product + b;
        }
    }
    r[i] = v;
}
