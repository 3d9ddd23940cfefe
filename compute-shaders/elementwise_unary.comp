#version 450
// y[i] = f(x[...]) for every element of a strided view x (broadcast stride 0 included); y contiguous,
// or (OUT_STRIDED) a tile of a contiguous result that was cut to fit a binding window (yStride).
// The function is a specialization constant (one pipeline per op); the scalar ops (x + s, x * s,
// x ^ s) take s from the push constants. Numbering: VulkanElementwise.cpp.
#include "raven_math.glsl"
#include "raven_strided.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint OP = 0;
layout(constant_id = 2) const uint OUT_STRIDED = 0;
layout(constant_id = 3) const uint VEC4 = 0;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Y { float y[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Y4 { vec4 y4[]; };

layout(push_constant) uniform Params {
    uint n;
    uint rank;
    uint yOffset;
    uint xOffset;
    float s;
    uint shape[R_MAX_RANK];
    uint xStride[R_MAX_RANK];
    uint yStride[R_MAX_RANK];  // OUT_STRIDED only
} p;

float apply(float v) {
    switch (OP) {
    case 0: return -v;
    case 1: return r_exp(v);
    case 2: return r_log(v);
    case 3: return r_sqrt(v);
    case 4: return abs(v);
    case 5: return r_tanh(v);
    case 6: return r_sigmoid(v);
    case 7: return v > 0.0 ? v : 0.0;
    case 8: return r_gelu_tanh(v);
    case 9: return r_gelu_erf(v);
    case 10: return v + p.s;
    case 11: return v * p.s;
    case 12: return r_pow(v, p.s);
    }
    return v;
}

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (VEC4 == 1) {
        // One run of consecutive elements, every operand starting on a multiple of 4 (the host checks):
        // four elements per invocation, each computed as on the scalar path; the tail one at a time.
        uint first = i * 4;
        if (first >= p.n) return;
        if (first + 4 <= p.n) {
            vec4 v = x4[p.xOffset / 4 + i];
            y4[p.yOffset / 4 + i] = vec4(apply(v.x), apply(v.y), apply(v.z), apply(v.w));
        } else {
            for (uint j = first; j < p.n; ++j) y[p.yOffset + j] = apply(x[p.xOffset + j]);
        }
        return;
    }
    if (i >= p.n) return;
    uint xi;
    R_STRIDED_OFFSET(xi, i, p.xOffset, p.rank, p.shape, p.xStride);
    uint yi = p.yOffset + i;
    if (OUT_STRIDED == 1) R_STRIDED_OFFSET(yi, i, p.yOffset, p.rank, p.shape, p.yStride);
    y[yi] = apply(x[xi]);
}
