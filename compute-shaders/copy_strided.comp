#version 450
// dst[view] = src[view]: copies between two strided views of one shape (contiguous copies, copyInto
// a narrowed or transposed destination, broadcast sources). Copies bits: no arithmetic.
#include "raven_strided.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint VEC4 = 0;

layout(std430, set = 0, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, set = 0, binding = 0) readonly buffer Src4 { uvec4 src4[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Dst { uint dst[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Dst4 { uvec4 dst4[]; };

layout(push_constant) uniform Params {
    uint n;
    uint rank;
    uint dstOffset;
    uint srcOffset;
    uint shape[R_MAX_RANK];
    uint dstStride[R_MAX_RANK];
    uint srcStride[R_MAX_RANK];
} p;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (VEC4 == 1) {
        // One run of consecutive elements, every operand starting on a multiple of 4 (the host checks):
        // four elements per invocation, each computed as on the scalar path; the tail one at a time.
        uint first = i * 4;
        if (first >= p.n) return;
        if (first + 4 <= p.n) {
            dst4[p.dstOffset / 4 + i] = src4[p.srcOffset / 4 + i];
        } else {
            for (uint j = first; j < p.n; ++j) dst[p.dstOffset + j] = src[p.srcOffset + j];
        }
        return;
    }
    if (i >= p.n) return;
    uint si, di;
    R_STRIDED_OFFSET(si, i, p.srcOffset, p.rank, p.shape, p.srcStride);
    R_STRIDED_OFFSET(di, i, p.dstOffset, p.rank, p.shape, p.dstStride);
    dst[di] = src[si];
}
