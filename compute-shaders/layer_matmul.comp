#version 450
// A batch of small matrix products with arbitrary strides, for attention:
//   c[b][m][n] = alpha * sum over k of A(b, m, k) * B(b, k, n)
// with A(b, m, k) = a[b*aBatch + m*aRow + k*aCol] and B(b, k, n) = b[b*bBatch + k*bRow + n*bCol], so a
// transposed operand is only a swap of its strides; c is contiguous [batches, M, N]. One batch per
// workgroup z; tiles and the fixed summation order come from layer_gemm_tile.glsl.
#extension GL_GOOGLE_include_directive : require

layout(std430, set = 0, binding = 0) readonly buffer OperandA { float opA[]; };
layout(std430, set = 0, binding = 1) readonly buffer OperandB { float opB[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Result { float result[]; };

layout(push_constant) uniform Params {
    uint M, N, K;
    uint aBatch, aRow, aCol;
    uint bBatch, bRow, bCol;
    float alpha;
} p;

float loadA(uint m, uint k) { return opA[gl_WorkGroupID.z * p.aBatch + m * p.aRow + k * p.aCol]; }
float loadB(uint k, uint n) { return opB[gl_WorkGroupID.z * p.bBatch + k * p.bRow + n * p.bCol]; }

#include "layer_gemm_tile.glsl"

void main() {
    const uint m0 = gl_WorkGroupID.y * TM, n0 = gl_WorkGroupID.x * TN;
    gemmTile(p.M, p.N, p.K, m0, n0);
    const uint base = gl_WorkGroupID.z * p.M * p.N;
    for (uint i = 0; i < RM; ++i) {
        const uint m = m0 + gemmRow(i);
        if (m >= p.M) continue;
        for (uint j = 0; j < RN; ++j) {
            const uint n = n0 + gemmCol(j);
            if (n < p.N) result[base + m * p.N + n] = p.alpha * gemmAcc[i][j];
        }
    }
}
