#version 450
// Batched GEMM: C[b] = A[b] B[b] (+ bias broadcast over rows), A [M, K] and B [K, N] any strides
// (transposed views are read in place), C [M, N] with row stride ldc.
//
// Tiling: a workgroup computes a BM x BN tile of C; per step it stages a BM x BK slice of A and a
// BK x BN slice of B in shared memory (zero-padded at the edges), and each of its
// (BM / TM) x (BN / TN) invocations accumulates a TM x TN block of C in registers (rows tm + i * BM/TM,
// columns tn + j * BN/TN, so neighbouring invocations touch neighbouring addresses). Tile sizes are
// specialization constants chosen per device and shape (GemmVariants.cpp).
//
// Loads (A_LOAD, B_LOAD): 0 reads one float per invocation with the row index of C varying fastest
// along the operand's contiguous axis as the plain layout has it (A: k fastest, B: n fastest); 1 the
// same for transposed views (A: m fastest, B: k fastest), so loads stay coalesced; 2 and 3 are the
// aligned fast paths of 0 and 1: one vec4 (16 bytes) per invocation, chosen by the host only where
// the contiguous axis has stride 1, the other strides and every offset are multiples of 4 and the
// extent along the vector is a multiple of 4, so a vector is either wholly inside or wholly padding.
//
// Split-k (SPLITS > 1 in the push constants): workgroup z = batch * splits + s computes the partial
// product over k in [s * kSplit, min(K, (s + 1) * kSplit)) into C + s * cSplitStride; a second pass
// (gemm_splitk_reduce.comp) adds the slices in ascending s. Accumulate (flags bit 2): C already holds
// the sum over the earlier k (a product cut along K because an operand exceeds one binding) and the
// sum goes on from there.
//
// Order of accumulation: every element of C adds its products in ascending k, one at a time, whatever
// the tile sizes and loads (padding adds exact zeros), then the bias: the result does not depend on
// the variant chosen, nor on a cut along K; only split-k (chosen from the shape alone) changes it.
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 5) in;
layout(constant_id = 0) const uint BM = 64;
layout(constant_id = 1) const uint BN = 64;
layout(constant_id = 2) const uint BK = 16;
layout(constant_id = 3) const uint TM = 4;
layout(constant_id = 4) const uint TN = 4;
layout(constant_id = 6) const uint A_LOAD = 0;
layout(constant_id = 7) const uint B_LOAD = 0;

const uint THREADS_M = BM / TM;
const uint THREADS_N = BN / TN;
const uint THREADS = THREADS_M * THREADS_N;

#include "raven_gemm.glsl"

shared float As[BK * BM];
shared float Bs[BK * BN];

void main() {
    uint tid = gl_LocalInvocationID.x;
    uint tm = tid / THREADS_N;
    uint tn = tid % THREADS_N;
    uint row0 = gl_WorkGroupID.y * BM;
    uint col0 = gl_WorkGroupID.x * BN;
    GemmSlice slice = gemmSlice();
    uint aBase = slice.aBase, bBase = slice.bBase, cBase = slice.cBase;
    uint kBegin = slice.kBegin, kEnd = slice.kEnd;

    float acc[TM * TN];
    for (uint i = 0; i < TM; ++i) {
        for (uint j = 0; j < TN; ++j) {
            uint r = row0 + tm + i * THREADS_M;
            uint col = col0 + tn + j * THREADS_N;
            bool inside = (p.flags & GEMM_ACCUMULATE) != 0u && r < p.M && col < p.N;
            acc[i * TN + j] = inside ? c[cBase + r * p.ldc + col] : 0.0;
        }
    }

    for (uint k0 = kBegin; k0 < kEnd; k0 += BK) {
        if (A_LOAD == 2) {
            for (uint e = tid; e < BM * (BK / 4); e += THREADS) {
                uint r = e / (BK / 4), kk = (e % (BK / 4)) * 4;
                uint gr = row0 + r, gk = k0 + kk;
                vec4 v = (gr < p.M && gk < kEnd) ? a4[(aBase + gr * p.aRowStride + gk) / 4] : vec4(0.0);
                As[(kk + 0) * BM + r] = v.x;
                As[(kk + 1) * BM + r] = v.y;
                As[(kk + 2) * BM + r] = v.z;
                As[(kk + 3) * BM + r] = v.w;
            }
        } else if (A_LOAD == 3) {
            for (uint e = tid; e < (BM / 4) * BK; e += THREADS) {
                uint r = (e % (BM / 4)) * 4, kk = e / (BM / 4);
                uint gr = row0 + r, gk = k0 + kk;
                vec4 v = (gr < p.M && gk < kEnd) ? a4[(aBase + gr + gk * p.aColStride) / 4] : vec4(0.0);
                As[kk * BM + r + 0] = v.x;
                As[kk * BM + r + 1] = v.y;
                As[kk * BM + r + 2] = v.z;
                As[kk * BM + r + 3] = v.w;
            }
        } else {
            for (uint e = tid; e < BM * BK; e += THREADS) {
                uint r = A_LOAD == 1 ? e % BM : e / BK;
                uint kk = A_LOAD == 1 ? e / BM : e % BK;
                uint gr = row0 + r, gk = k0 + kk;
                As[kk * BM + r] = (gr < p.M && gk < kEnd) ? a[aBase + gr * p.aRowStride + gk * p.aColStride] : 0.0;
            }
        }
        if (B_LOAD == 2) {
            for (uint e = tid; e < BK * (BN / 4); e += THREADS) {
                uint kk = e / (BN / 4), cc = (e % (BN / 4)) * 4;
                uint gk = k0 + kk, gc = col0 + cc;
                vec4 v = (gk < kEnd && gc < p.N) ? b4[(bBase + gk * p.bRowStride + gc) / 4] : vec4(0.0);
                Bs[kk * BN + cc + 0] = v.x;
                Bs[kk * BN + cc + 1] = v.y;
                Bs[kk * BN + cc + 2] = v.z;
                Bs[kk * BN + cc + 3] = v.w;
            }
        } else if (B_LOAD == 3) {
            for (uint e = tid; e < BN * (BK / 4); e += THREADS) {
                uint cc = e / (BK / 4), kk = (e % (BK / 4)) * 4;
                uint gk = k0 + kk, gc = col0 + cc;
                vec4 v = (gk < kEnd && gc < p.N) ? b4[(bBase + gk + gc * p.bColStride) / 4] : vec4(0.0);
                Bs[(kk + 0) * BN + cc] = v.x;
                Bs[(kk + 1) * BN + cc] = v.y;
                Bs[(kk + 2) * BN + cc] = v.z;
                Bs[(kk + 3) * BN + cc] = v.w;
            }
        } else {
            for (uint e = tid; e < BK * BN; e += THREADS) {
                uint kk = B_LOAD == 1 ? e % BK : e / BN;
                uint cc = B_LOAD == 1 ? e / BK : e % BN;
                uint gk = k0 + kk, gc = col0 + cc;
                Bs[kk * BN + cc] = (gk < kEnd && gc < p.N) ? b[bBase + gk * p.bRowStride + gc * p.bColStride] : 0.0;
            }
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

    for (uint i = 0; i < TM; ++i) {
        uint r = row0 + tm + i * THREADS_M;
        if (r >= p.M) continue;
        for (uint j = 0; j < TN; ++j) {
            uint col = col0 + tn + j * THREADS_N;
            if (col >= p.N) continue;
            float v = acc[i * TN + j];
            if ((p.flags & GEMM_ADD_BIAS) != 0u) v += bias[p.biasOffset + col * p.biasStride];
            c[cBase + r * p.ldc + col] = v;
        }
    }
}
