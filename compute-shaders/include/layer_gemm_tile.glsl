// A tiled matrix product for the layer shaders: one workgroup computes a TM x TN tile of
// C = A (M x K) * B (K x N), walking K in steps of TK through shared memory; each invocation holds an
// RM x RN block of the tile in registers.
//
// The including shader defines, before this file:
//   float loadA(uint m, uint k);   // A[m][k] for m < M, k < K
//   float loadB(uint k, uint n);   // B[k][n] for k < K, n < N
// and afterwards calls gemmTile(M, N, K, m0, n0), or gemmTileRange(M, N, kBegin, kEnd, m0, n0) for the
// products over k in [kBegin, kEnd) only (a slice of a split K), then reads gemmAcc[i][j], the output
// at row m0 + gemmRow(i) and column n0 + gemmCol(j).
//
// Two layouts of the block, by the tile: with 4 x 4 per invocation (the large products), rows
// ly*4 .. ly*4+3 and columns lx*4 .. lx*4+3, read from shared memory as one vec4 of A and one of B per
// step of K (a quarter of the shared-memory reads; on CPU implementations 2-4x faster); otherwise rows
// ly + i*WY and columns lx + j*WX, so that neighbouring invocations read neighbouring words.
//
// Every output sums its K products in index order (zeros pad the last step), one add at a time: the
// result depends on the shape alone, never on timing or the layout. Workgroup and tile sizes are
// specialization constants chosen per device (constant_id 0..4; WX * RN and WY * RM multiples of 4);
// the shared memory used is 4 * TK * (TM + TN) bytes.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;
layout(constant_id = 2) const uint RM = 1;
layout(constant_id = 3) const uint RN = 1;
layout(constant_id = 4) const uint TK = 16;

const uint WX = gl_WorkGroupSize.x;
const uint WY = gl_WorkGroupSize.y;
const uint TM = WY * RM;
const uint TN = WX * RN;
const bool GEMM_BLOCKED = RM == 4 && RN == 4;

// Element (k, m) of the staged A is gemmTileA[(k * TM + m) / 4][m % 4]; likewise B.
shared vec4 gemmTileA[TK * TM / 4];
shared vec4 gemmTileB[TK * TN / 4];
float gemmAcc[RM][RN];

uint gemmRow(uint i) { return GEMM_BLOCKED ? gl_LocalInvocationID.y * 4 + i : gl_LocalInvocationID.y + i * WY; }
uint gemmCol(uint j) { return GEMM_BLOCKED ? gl_LocalInvocationID.x * 4 + j : gl_LocalInvocationID.x + j * WX; }

void gemmTileRange(uint M, uint N, uint kBegin, uint kEnd, uint m0, uint n0) {
    for (uint i = 0; i < RM; ++i)
        for (uint j = 0; j < RN; ++j) gemmAcc[i][j] = 0.0;
    const uint lid = gl_LocalInvocationIndex;
    const uint threads = WX * WY;
    const uint lx = gl_LocalInvocationID.x, ly = gl_LocalInvocationID.y;
    for (uint k0 = kBegin; k0 < kEnd; k0 += TK) {
        for (uint e = lid; e < TM * TK; e += threads) {
            const uint mm = e / TK, kk = e % TK;
            float value = 0.0;
            if (m0 + mm < M && k0 + kk < kEnd) value = loadA(m0 + mm, k0 + kk);
            gemmTileA[(kk * TM + mm) / 4][mm % 4] = value;
        }
        for (uint e = lid; e < TN * TK; e += threads) {
            const uint kk = e / TN, nn = e % TN;
            float value = 0.0;
            if (n0 + nn < N && k0 + kk < kEnd) value = loadB(k0 + kk, n0 + nn);
            gemmTileB[(kk * TN + nn) / 4][nn % 4] = value;
        }
        barrier();
        for (uint kk = 0; kk < TK; ++kk) {
            float a[RM];
            float b[RN];
            if (GEMM_BLOCKED) {
                const vec4 a4 = gemmTileA[kk * (TM / 4) + ly];
                const vec4 b4 = gemmTileB[kk * (TN / 4) + lx];
                for (uint i = 0; i < RM; ++i) a[i] = a4[i];
                for (uint j = 0; j < RN; ++j) b[j] = b4[j];
            } else {
                for (uint i = 0; i < RM; ++i) a[i] = gemmTileA[(kk * TM + ly + i * WY) / 4][(ly + i * WY) % 4];
                for (uint j = 0; j < RN; ++j) b[j] = gemmTileB[(kk * TN + lx + j * WX) / 4][(lx + j * WX) % 4];
            }
            for (uint i = 0; i < RM; ++i)
                for (uint j = 0; j < RN; ++j) gemmAcc[i][j] += a[i] * b[j];
        }
        barrier();
    }
}

void gemmTile(uint M, uint N, uint K, uint m0, uint n0) { gemmTileRange(M, N, 0, K, m0, n0); }
