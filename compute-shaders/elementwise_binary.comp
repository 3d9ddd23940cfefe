#version 450
// c[i] = f(a[...], b[...]) over two strided views of one shape (stride-0 broadcast included); c
// contiguous, or (OUT_STRIDED) a tile of a contiguous result that was cut to fit a binding window
// (cStride). The function is a specialization constant, numbered as raven::BinaryOp; for the
// backward ops a is the upstream gradient and b the saved forward input or output.
#include "raven_math.glsl"
#include "raven_strided.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint OP = 0;
layout(constant_id = 2) const uint OUT_STRIDED = 0;
layout(constant_id = 3) const uint VEC4 = 0;

layout(std430, set = 0, binding = 0) readonly buffer A { float a[]; };
layout(std430, set = 0, binding = 0) readonly buffer A4 { vec4 a4[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { float b[]; };
layout(std430, set = 0, binding = 1) readonly buffer B4 { vec4 b4[]; };
layout(std430, set = 0, binding = 2) writeonly buffer C { float c[]; };
layout(std430, set = 0, binding = 2) writeonly buffer C4 { vec4 c4[]; };

layout(push_constant) uniform Params {
    uint n;
    uint rank;
    uint cOffset;
    uint aOffset;
    uint bOffset;
    uint shape[R_MAX_RANK];
    uint aStride[R_MAX_RANK];
    uint bStride[R_MAX_RANK];
    uint cStride[R_MAX_RANK];  // OUT_STRIDED only
} p;

float apply(float u, float v) {
    switch (OP) {
    case 0: return u + v;
    case 1: return u - v;
    case 2: return u * v;
    case 3: return r_div(u, v);
    case 4: return u > v ? u : v;
    case 5: return u < v ? u : v;
    case 6: return u == v ? 1.0 : 0.0;
    case 7: return v > 0.0 ? u : 0.0;
    case 8: return u * (1.0 - v * v);
    case 9: return u * v * (1.0 - v);
    case 10: return u * r_gelu_tanh_grad(v);
    case 11: return u * r_gelu_erf_grad(v);
    }
    return u;
}

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (VEC4 == 1) {
        // One run of consecutive elements, every operand starting on a multiple of 4 (the host checks):
        // four elements per invocation, each computed as on the scalar path; the tail one at a time.
        uint first = i * 4;
        if (first >= p.n) return;
        if (first + 4 <= p.n) {
            vec4 u = a4[p.aOffset / 4 + i], v = b4[p.bOffset / 4 + i];
            c4[p.cOffset / 4 + i] = vec4(apply(u.x, v.x), apply(u.y, v.y), apply(u.z, v.z), apply(u.w, v.w));
        } else {
            for (uint j = first; j < p.n; ++j) c[p.cOffset + j] = apply(a[p.aOffset + j], b[p.bOffset + j]);
        }
        return;
    }
    if (i >= p.n) return;
    uint ai, bi;
    R_STRIDED_OFFSET(ai, i, p.aOffset, p.rank, p.shape, p.aStride);
    R_STRIDED_OFFSET(bi, i, p.bOffset, p.rank, p.shape, p.bStride);
    uint ci = p.cOffset + i;
    if (OUT_STRIDED == 1) R_STRIDED_OFFSET(ci, i, p.cOffset, p.rank, p.shape, p.cStride);
    c[ci] = apply(a[ai], b[bi]);
}
