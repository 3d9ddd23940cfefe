#version 450
// dst[view] = src[view]: copies between two strided views of one shape (contiguous copies, copyInto
// a narrowed or transposed destination, broadcast sources). Copies bits: no arithmetic.
#include "raven_strided.glsl"

layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Dst { uint dst[]; };

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
    if (i >= p.n) return;
    uint si, di;
    R_STRIDED_OFFSET(si, i, p.srcOffset, p.rank, p.shape, p.srcStride);
    R_STRIDED_OFFSET(di, i, p.dstOffset, p.rank, p.shape, p.dstStride);
    dst[di] = src[si];
}
