#version 450
// The matrix product of the verifiable kernel mode: the twin of core/cpu/kernels/VerifiableGemm.cpp
// (sgemmFixedOrder), read line by line against its microTile and panelProduct. Every element of C is
//     acc = 0;  for p = 0 .. k-1:  acc = acc + a(i, p) * b(p, j)   (a rounded product, then a rounded sum)
//     c(i, j) = beta == 0 ? acc : beta * c(i, j) + acc           (beta = 1 and c = the bias, with a bias)
// summed by one invocation alone, in ascending p: the order depends on k only. As on the CPU, the
// tiling only decides who computes which element and from where it reads: a workgroup computes a
// 64 x 64 tile of C (each of its 16 x 16 invocations a 4 x 4 block, as the CPU's 4 x 16 register
// tile), reading A and B through shared memory 16 values of p at a time, in order. No split-k, no
// subgroup arithmetic, no atomics. Every float is `precise` (NoContraction), which the build checks
// on the SPIR-V.
//
// Operands are read with any strides (A and B as [batch][rows][cols] with the strides below; C is
// contiguous). Bindings: 0 A, 1 B, 2 bias (bound to A when there is none), 3 C.
layout(local_size_x = 16, local_size_y = 16) in;

layout(std430, set = 0, binding = 0) readonly buffer A { float a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { float b[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 3) writeonly buffer C { float c[]; };

layout(push_constant) uniform Params {
    uint m, n, k, batch;
    uint aOffset, bOffset, cOffset, biasOffset;
    uint aRowStride, aColStride, aBatchStride;
    uint bRowStride, bColStride, bBatchStride;
    uint biasStride, hasBias;
} params;

const uint kTile = 64u;  // rows and columns of C per workgroup
const uint kDepth = 16u;  // values of p per step through shared memory
const uint kBlock = 4u;  // rows and columns of C per invocation

shared float tileA[kDepth][kTile];  // tileA[p][row]
shared float tileB[kDepth][kTile];  // tileB[p][column]

void main() {
    uint tx = gl_LocalInvocationID.x;
    uint ty = gl_LocalInvocationID.y;
    uint linear = ty * 16u + tx;
    uint row0 = gl_WorkGroupID.y * kTile;
    uint col0 = gl_WorkGroupID.x * kTile;
    uint batch = gl_WorkGroupID.z;
    uint aBase = params.aOffset + batch * params.aBatchStride;
    uint bBase = params.bOffset + batch * params.bBatchStride;

    precise float acc[kBlock][kBlock];
    for (uint r = 0u; r < kBlock; ++r)
        for (uint q = 0u; q < kBlock; ++q) acc[r][q] = 0.0;

    for (uint p0 = 0u; p0 < params.k; p0 += kDepth) {
        uint depth = min(kDepth, params.k - p0);
        // 256 invocations copy 16 x 64 values of A and of B, 4 each; outside the matrices, zeros that
        // no stored element ever adds (only p < k is summed below, and rows and columns past m and n
        // are not stored).
        for (uint e = linear; e < kDepth * kTile; e += 256u) {
            uint p = e / kTile;
            uint x = e % kTile;
            uint i = row0 + x;
            uint j = col0 + x;
            bool inDepth = p < depth;
            tileA[p][x] = (inDepth && i < params.m) ? a[aBase + i * params.aRowStride + (p0 + p) * params.aColStride] : 0.0;
            tileB[p][x] = (inDepth && j < params.n) ? b[bBase + (p0 + p) * params.bRowStride + j * params.bColStride] : 0.0;
        }
        barrier();
        for (uint p = 0u; p < depth; ++p) {
            for (uint r = 0u; r < kBlock; ++r) {
                precise float ap = tileA[p][ty * kBlock + r];
                for (uint q = 0u; q < kBlock; ++q) {
                    precise float product = ap * tileB[p][tx * kBlock + q];
                    acc[r][q] = acc[r][q] + product;
                }
            }
        }
        barrier();
    }

    for (uint r = 0u; r < kBlock; ++r) {
        uint i = row0 + ty * kBlock + r;
        if (i >= params.m) continue;
        for (uint q = 0u; q < kBlock; ++q) {
            uint j = col0 + tx * kBlock + q;
            if (j >= params.n) continue;
            precise float sum = acc[r][q];
            precise float result = sum;
            if (params.hasBias != 0u) {
                precise float beta = 1.0;
                precise float scaled = beta * bias[params.biasOffset + j * params.biasStride];
                result = scaled + sum;
            }
            c[params.cOffset + (batch * params.m + i) * params.n + j] = result;
        }
    }
}
