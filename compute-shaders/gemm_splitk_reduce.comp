#version 450
// The second pass of a split-k GEMM (gemm_tiled.comp): c[i] = part[0][i] + part[1][i] + ... (+ bias of
// i's column), the slices added one at a time in ascending order: deterministic, no atomics. The host
// cuts outputs and slices into dispatches when they exceed one binding (VulkanMatmul.cpp); a dispatch
// that continues the sum of earlier slices (ACCUMULATE) starts from c, so the order stays the same.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Part { float part[]; };
layout(std430, set = 0, binding = 1) readonly buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 2) buffer C { float c[]; };

layout(push_constant) uniform Params {
    uint n;            // outputs in this dispatch
    uint splits;       // slices in this dispatch
    uint partOffset;   // of output 0 in the first slice
    uint sliceStride;  // between slices
    uint cOffset;
    uint biasOffset;
    uint biasStride;
    uint columns;  // N: output i of this dispatch lies in column (i % columns + colBase) % columns
    uint colBase;
    uint flags;  // 1: add the bias; 2: accumulate onto c
} p;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.n) return;
    bool accumulate = (p.flags & 2u) != 0u;
    float acc = accumulate ? c[p.cOffset + i] : part[p.partOffset + i];
    for (uint s = accumulate ? 0u : 1u; s < p.splits; ++s) acc += part[p.partOffset + s * p.sliceStride + i];
    if ((p.flags & 1u) != 0u) acc += bias[p.biasOffset + ((i % p.columns + p.colBase) % p.columns) * p.biasStride];
    c[p.cOffset + i] = acc;
}
