// A tiled matrix product for the layer shaders: one workgroup computes a TM x TN tile of
// C = A (M x K) * B (K x N), walking K in steps of TK through shared memory; each invocation holds an
// RM x RN block of the tile in registers (rows ly + i*WY, columns lx + j*WX, so that neighbouring
// invocations read neighbouring shared-memory words).
//
// The including shader defines, before this file:
//   float loadA(uint m, uint k);   // A[m][k] for m < M, k < K
//   float loadB(uint k, uint n);   // B[k][n] for k < K, n < N
// and afterwards calls gemmTile(M, N, K, m0, n0), then reads gemmAcc[i][j] for row m0 + ly + i*WY and
// column n0 + lx + j*WX.
//
// Every output sums its K products in index order (zeros pad the last step), one add at a time: the
// result depends on the shape alone, never on timing. Workgroup and tile sizes are specialization
// constants chosen per device (constant_id 0..4); the shared memory used is 4 * TK * (TM + TN) bytes.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;
layout(constant_id = 2) const uint RM = 1;
layout(constant_id = 3) const uint RN = 1;
layout(constant_id = 4) const uint TK = 16;

const uint WX = gl_WorkGroupSize.x;
const uint WY = gl_WorkGroupSize.y;
const uint TM = WY * RM;
const uint TN = WX * RN;

shared float gemmTileA[TK * TM];
shared float gemmTileB[TK * TN];
float gemmAcc[RM][RN];

void gemmTile(uint M, uint N, uint K, uint m0, uint n0) {
    for (uint i = 0; i < RM; ++i)
        for (uint j = 0; j < RN; ++j) gemmAcc[i][j] = 0.0;
    const uint lid = gl_LocalInvocationIndex;
    const uint threads = WX * WY;
    const uint lx = gl_LocalInvocationID.x, ly = gl_LocalInvocationID.y;
    for (uint k0 = 0; k0 < K; k0 += TK) {
        for (uint e = lid; e < TM * TK; e += threads) {
            const uint mm = e / TK, kk = e % TK;
            float value = 0.0;
            if (m0 + mm < M && k0 + kk < K) value = loadA(m0 + mm, k0 + kk);
            gemmTileA[kk * TM + mm] = value;
        }
        for (uint e = lid; e < TN * TK; e += threads) {
            const uint kk = e / TN, nn = e % TN;
            float value = 0.0;
            if (n0 + nn < N && k0 + kk < K) value = loadB(k0 + kk, n0 + nn);
            gemmTileB[kk * TN + nn] = value;
        }
        barrier();
        for (uint kk = 0; kk < TK; ++kk) {
            float a[RM];
            float b[RN];
            for (uint i = 0; i < RM; ++i) a[i] = gemmTileA[kk * TM + ly + i * WY];
            for (uint j = 0; j < RN; ++j) b[j] = gemmTileB[kk * TN + lx + j * WX];
            for (uint i = 0; i < RM; ++i)
                for (uint j = 0; j < RN; ++j) gemmAcc[i][j] += a[i] * b[j];
        }
        barrier();
    }
}
