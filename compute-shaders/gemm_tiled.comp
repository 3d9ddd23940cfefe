#version 450
// Batched GEMM: C[b] = A[b] B[b] (+ bias broadcast over rows), A [M, K] and B [K, N] any strides
// (transposed views are read in place), C contiguous [batch, M, N].
//
// Tiling: a workgroup computes a BM x BN tile of C; per step it stages a BM x BK slice of A and a
// BK x BN slice of B in shared memory (zero-padded at the edges), and each of its
// (BM / TM) x (BN / TN) invocations accumulates a TM x TN block of C in registers (rows tm + i * BM/TM,
// columns tn + j * BN/TN, so neighbouring invocations touch neighbouring addresses). Tile sizes are
// specialization constants chosen per device and shape (VulkanMatmul.cpp); A_ROWS_FAST / B_K_FAST
// pick which index of the staging loads varies fastest, so loads stay coalesced for transposed views.
//
// Order of accumulation: every element of C adds its K products in ascending k, one at a time,
// whatever the tile sizes (padding adds exact zeros), then the bias: the result does not depend on
// the variant chosen.
layout(local_size_x_id = 5) in;
layout(constant_id = 0) const uint BM = 64;
layout(constant_id = 1) const uint BN = 64;
layout(constant_id = 2) const uint BK = 16;
layout(constant_id = 3) const uint TM = 4;
layout(constant_id = 4) const uint TN = 4;
layout(constant_id = 6) const uint A_ROWS_FAST = 0;
layout(constant_id = 7) const uint B_K_FAST = 0;

const uint THREADS_M = BM / TM;
const uint THREADS_N = BN / TN;
const uint THREADS = THREADS_M * THREADS_N;

layout(std430, set = 0, binding = 0) readonly buffer A { float a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { float b[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 3) writeonly buffer C { float c[]; };

layout(push_constant) uniform Params {
    uint M, N, K;
    uint aOffset, bOffset, biasOffset;
    uint hasBias, biasStride;
    uint aRowStride, aColStride, bRowStride, bColStride;
    uint batchShape[3];
    uint aBatchStride[3];
    uint bBatchStride[3];
} p;

shared float As[BK * BM];
shared float Bs[BK * BN];

void main() {
    uint tid = gl_LocalInvocationID.x;
    uint tm = tid / THREADS_N;
    uint tn = tid % THREADS_N;
    uint row0 = gl_WorkGroupID.y * BM;
    uint col0 = gl_WorkGroupID.x * BN;
    uint batch = gl_WorkGroupID.z;

    uint aBase = p.aOffset, bBase = p.bOffset, rem = batch;
    for (int d = 2; d >= 0; --d) {
        uint index = rem % p.batchShape[d];
        rem /= p.batchShape[d];
        aBase += index * p.aBatchStride[d];
        bBase += index * p.bBatchStride[d];
    }

    float acc[TM * TN];
    for (uint i = 0; i < TM * TN; ++i) acc[i] = 0.0;

    for (uint k0 = 0; k0 < p.K; k0 += BK) {
        for (uint e = tid; e < BM * BK; e += THREADS) {
            uint r = A_ROWS_FAST == 1 ? e % BM : e / BK;
            uint kk = A_ROWS_FAST == 1 ? e / BM : e % BK;
            uint gr = row0 + r, gk = k0 + kk;
            As[kk * BM + r] = (gr < p.M && gk < p.K) ? a[aBase + gr * p.aRowStride + gk * p.aColStride] : 0.0;
        }
        for (uint e = tid; e < BK * BN; e += THREADS) {
            uint kk = B_K_FAST == 1 ? e % BK : e / BN;
            uint cc = B_K_FAST == 1 ? e / BK : e % BN;
            uint gk = k0 + kk, gc = col0 + cc;
            Bs[kk * BN + cc] = (gk < p.K && gc < p.N) ? b[bBase + gk * p.bRowStride + gc * p.bColStride] : 0.0;
        }
        barrier();
        for (uint kk = 0; kk < BK; ++kk) {
            float av[TM];
            float bv[TN];
            for (uint i = 0; i < TM; ++i) av[i] = As[kk * BM + tm + i * THREADS_M];
            for (uint j = 0; j < TN; ++j) bv[j] = Bs[kk * BN + tn + j * THREADS_N];
            for (uint i = 0; i < TM; ++i)
                for (uint j = 0; j < TN; ++j) acc[i * TN + j] += av[i] * bv[j];
        }
        barrier();
    }

    uint cBase = batch * p.M * p.N;
    for (uint i = 0; i < TM; ++i) {
        uint r = row0 + tm + i * THREADS_M;
        if (r >= p.M) continue;
        for (uint j = 0; j < TN; ++j) {
            uint col = col0 + tn + j * THREADS_N;
            if (col >= p.N) continue;
            float v = acc[i * TN + j];
            if (p.hasBias == 1) v += bias[p.biasOffset + col * p.biasStride];
            c[cBase + r * p.N + col] = v;
        }
    }
}
