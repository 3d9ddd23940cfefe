#version 450
// Batched GEMM for GPUs, the register-blocked form of gemm_tiled.comp (same operands, push constants,
// load modes, split-k and accumulate; raven_gemm.glsl): C[b] = A[b] B[b] (+ bias).
//
// What differs is how an invocation reads shared memory and how loads overlap the arithmetic:
//  - Each invocation owns a TM x TN block of C made of 4 x 4 squares: rows tm*4 + i + q * BM/(TM/4) and
//    columns tn*4 + j + q * BN/(TN/4) (TM, TN multiples of 4). The staged slices are kept as vec4 rows
//    along m (A) and n (B), so each step of k reads TM/4 + TN/4 vec4 from shared memory for TM * TN
//    multiply-adds (gemm_tiled reads TM + TN floats), the squares q spread over the tile so that one
//    subgroup's reads of B cover consecutive words.
//  - Double buffering: two stages of shared memory; while the products of one stage run, the next
//    slice of A and B is already loaded from global memory into registers, and stored to the other
//    stage afterwards: one barrier per slice of K.
// The host picks this kernel only for tiles where every invocation stages whole units: BM * BK / 4 and
// BN * BK / 4 multiples of the invocations (GemmVariants.cpp). C_VEC = 1 stores C (and reads it, when
// accumulating) as vec4, chosen where N, ldc, the C offset and its batch and split strides are
// multiples of 4.
//
// Order of accumulation: as gemm_tiled, every element of C adds its products in ascending k, one at a
// time (padding adds exact zeros), then the bias, so both kernels give the same bits for any variant
// without split-k.
#extension GL_GOOGLE_include_directive : require

layout(local_size_x_id = 5) in;
layout(constant_id = 0) const uint BM = 128;
layout(constant_id = 1) const uint BN = 128;
layout(constant_id = 2) const uint BK = 8;
layout(constant_id = 3) const uint TM = 8;
layout(constant_id = 4) const uint TN = 8;
layout(constant_id = 6) const uint A_LOAD = 0;
layout(constant_id = 7) const uint B_LOAD = 0;
layout(constant_id = 8) const uint C_VEC = 0;

const uint THREADS_M = BM / TM;
const uint THREADS_N = BN / TN;
const uint THREADS = THREADS_M * THREADS_N;
const uint RM = TM / 4;  // 4 x 4 squares per invocation, down and across
const uint RN = TN / 4;

#include "raven_gemm.glsl"

// Staged slices, vec4 along m (A) and n (B); two stages one after the other.
const uint A_STAGE = BK * BM / 4;
const uint B_STAGE = BK * BN / 4;
shared vec4 As[2 * A_STAGE];
shared vec4 Bs[2 * B_STAGE];

// Units each invocation stages per slice: floats, or vec4 in the aligned load modes.
const uint A_UNITS = (A_LOAD >= 2 ? BM * BK / 4 : BM * BK) / THREADS;
const uint B_UNITS = (B_LOAD >= 2 ? BN * BK / 4 : BN * BK) / THREADS;
vec4 aStaged[A_UNITS];
vec4 bStaged[B_UNITS];
vec4 acc[TM * RN];  // acc[i * RN + qj]: row i of the block, 4 columns of square qj

uint tid, row0, col0;
GemmSlice slice;

// Unit e of A's slice: its row r and k within the tile (the first of four for vec4 units).
void unitOfA(uint e, out uint r, out uint kk) {
    if (A_LOAD == 0) { r = e / BK; kk = e % BK; }
    else if (A_LOAD == 1) { r = e % BM; kk = e / BM; }
    else if (A_LOAD == 2) { r = e / (BK / 4); kk = (e % (BK / 4)) * 4; }
    else { r = (e % (BM / 4)) * 4; kk = e / (BM / 4); }
}

void unitOfB(uint e, out uint kk, out uint cc) {
    if (B_LOAD == 0) { kk = e / BN; cc = e % BN; }
    else if (B_LOAD == 1) { kk = e % BK; cc = e / BK; }
    else if (B_LOAD == 2) { kk = e / (BN / 4); cc = (e % (BN / 4)) * 4; }
    else { cc = e / (BK / 4); kk = (e % (BK / 4)) * 4; }
}

void fetch(uint k0) {
    for (uint q = 0; q < A_UNITS; ++q) {
        uint r, kk;
        unitOfA(tid + q * THREADS, r, kk);
        uint gr = row0 + r, gk = k0 + kk;
        bool inside = gr < p.M && gk < slice.kEnd;
        if (A_LOAD == 2) aStaged[q] = inside ? a4[(slice.aBase + gr * p.aRowStride + gk) / 4] : vec4(0.0);
        else if (A_LOAD == 3) aStaged[q] = inside ? a4[(slice.aBase + gr + gk * p.aColStride) / 4] : vec4(0.0);
        else aStaged[q].x = inside ? a[slice.aBase + gr * p.aRowStride + gk * p.aColStride] : 0.0;
    }
    for (uint q = 0; q < B_UNITS; ++q) {
        uint kk, cc;
        unitOfB(tid + q * THREADS, kk, cc);
        uint gk = k0 + kk, gc = col0 + cc;
        bool inside = gk < slice.kEnd && gc < p.N;
        if (B_LOAD == 2) bStaged[q] = inside ? b4[(slice.bBase + gk * p.bRowStride + gc) / 4] : vec4(0.0);
        else if (B_LOAD == 3) bStaged[q] = inside ? b4[(slice.bBase + gk + gc * p.bColStride) / 4] : vec4(0.0);
        else bStaged[q].x = inside ? b[slice.bBase + gk * p.bRowStride + gc * p.bColStride] : 0.0;
    }
}

// Element (kk, r) of a stage: As[stage + (kk * BM + r) / 4][r % 4], likewise for B.
void store(uint stage) {
    uint as = stage * A_STAGE, bs = stage * B_STAGE;
    for (uint q = 0; q < A_UNITS; ++q) {
        uint r, kk;
        unitOfA(tid + q * THREADS, r, kk);
        if (A_LOAD == 3) {
            As[as + (kk * BM + r) / 4] = aStaged[q];
        } else if (A_LOAD == 2) {
            for (uint i = 0; i < 4; ++i) As[as + ((kk + i) * BM + r) / 4][r % 4] = aStaged[q][i];
        } else {
            As[as + (kk * BM + r) / 4][r % 4] = aStaged[q].x;
        }
    }
    for (uint q = 0; q < B_UNITS; ++q) {
        uint kk, cc;
        unitOfB(tid + q * THREADS, kk, cc);
        if (B_LOAD == 2) {
            Bs[bs + (kk * BN + cc) / 4] = bStaged[q];
        } else if (B_LOAD == 3) {
            for (uint i = 0; i < 4; ++i) Bs[bs + ((kk + i) * BN + cc) / 4][cc % 4] = bStaged[q][i];
        } else {
            Bs[bs + (kk * BN + cc) / 4][cc % 4] = bStaged[q].x;
        }
    }
}

void multiply(uint stage, uint tm, uint tn) {
    uint as = stage * A_STAGE, bs = stage * B_STAGE;
    for (uint kk = 0; kk < BK; ++kk) {
        vec4 av[RM];
        vec4 bv[RN];
        for (uint q = 0; q < RM; ++q) av[q] = As[as + kk * (BM / 4) + q * THREADS_M + tm];
        for (uint q = 0; q < RN; ++q) bv[q] = Bs[bs + kk * (BN / 4) + q * THREADS_N + tn];
        for (uint qi = 0; qi < RM; ++qi)
            for (uint i = 0; i < 4; ++i)
                for (uint qj = 0; qj < RN; ++qj) acc[(qi * 4 + i) * RN + qj] += av[qi][i] * bv[qj];
    }
}

uint rowOf(uint tm, uint i) { return row0 + (i / 4) * (THREADS_M * 4) + tm * 4 + i % 4; }
uint colOf(uint tn, uint qj) { return col0 + qj * (THREADS_N * 4) + tn * 4; }

void main() {
    tid = gl_LocalInvocationID.x;
    uint tm = tid / THREADS_N;
    uint tn = tid % THREADS_N;
    row0 = gl_WorkGroupID.y * BM;
    col0 = gl_WorkGroupID.x * BN;
    slice = gemmSlice();
    bool accumulate = (p.flags & GEMM_ACCUMULATE) != 0u;

    for (uint i = 0; i < TM; ++i) {
        uint r = rowOf(tm, i);
        for (uint qj = 0; qj < RN; ++qj) {
            uint col = colOf(tn, qj);
            vec4 v = vec4(0.0);
            if (accumulate && r < p.M) {
                if (C_VEC == 1) {
                    if (col < p.N) v = c4[(slice.cBase + r * p.ldc + col) / 4];
                } else {
                    for (uint j = 0; j < 4; ++j)
                        if (col + j < p.N) v[j] = c[slice.cBase + r * p.ldc + col + j];
                }
            }
            acc[i * RN + qj] = v;
        }
    }

    uint stage = 0;
    if (slice.kBegin < slice.kEnd) {
        fetch(slice.kBegin);
        store(0);
    }
    barrier();
    for (uint k0 = slice.kBegin; k0 < slice.kEnd; k0 += BK) {
        bool more = k0 + BK < slice.kEnd;
        if (more) fetch(k0 + BK);  // in flight while this stage's products run
        multiply(stage, tm, tn);
        if (more) store(stage ^ 1u);
        barrier();
        stage ^= 1u;
    }

    bool addBias = (p.flags & GEMM_ADD_BIAS) != 0u;
    for (uint i = 0; i < TM; ++i) {
        uint r = rowOf(tm, i);
        if (r >= p.M) continue;
        for (uint qj = 0; qj < RN; ++qj) {
            uint col = colOf(tn, qj);
            if (col >= p.N) continue;
            vec4 v = acc[i * RN + qj];
            if (addBias) {
                for (uint j = 0; j < 4; ++j)
                    if (col + j < p.N) v[j] += bias[p.biasOffset + (col + j) * p.biasStride];
            }
            if (C_VEC == 1) {
                c4[(slice.cBase + r * p.ldc + col) / 4] = v;
            } else {
                for (uint j = 0; j < 4; ++j)
                    if (col + j < p.N) c[slice.cBase + r * p.ldc + col + j] = v[j];
            }
        }
    }
}
