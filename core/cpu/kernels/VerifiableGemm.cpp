#include "cpu/kernels/VerifiableGemm.h"

#include <algorithm>

#include <glm/glm.hpp>

#include "cpu/kernels/Scratch.h"


#if defined(__FAST_MATH__)
#error "VerifiableGemm.cpp needs IEEE arithmetic: build it without -ffast-math"
#endif

namespace raven::cpu::kernels {

namespace {

constexpr int64_t kRows = 4;       // rows of C per micro-tile
constexpr int64_t kCols = 8;       // columns of C per micro-tile: two vec4
constexpr int64_t kPanelCols = 64;  // columns of B packed at a time (k x 64 floats stay in L2)

// acc[r] = sum_p a[p][r] * b[p][0..7] in order p = 0..k-1; a is k x 4 (packed rows), b is k x panel.
[[gnu::always_inline]] inline void microTile(int64_t k, const float* a, const float* b, int64_t panel,
                                             glm::vec4 acc[kRows][2]) {
    for (int64_t r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = glm::vec4(0.0f);
    for (int64_t p = 0; p < k; ++p) {
        const float* bp = b + p * panel;
        const glm::vec4 b0(bp[0], bp[1], bp[2], bp[3]);
        const glm::vec4 b1(bp[4], bp[5], bp[6], bp[7]);
        const float* ap = a + p * kRows;
        for (int64_t r = 0; r < kRows; ++r) {
            const glm::vec4 prod0 = ap[r] * b0;
            const glm::vec4 prod1 = ap[r] * b1;
            acc[r][0] = acc[r][0] + prod0;
            acc[r][1] = acc[r][1] + prod1;
        }
    }
}

// The columns [0, cols) of C (c points at the panel's first column) from A and one packed panel of B.
// Compiled three times, for AVX-512, AVX2 and generic x86-64, and picked when the program loads: wider
// registers hold more lanes, but each lane computes the same rounded products and sums in the same
// order (no FMA: -ffp-contract=off), so the bits are the same; tests/cpu_kernels checks it with whole
// builds for x86-64-v3 and v4.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(RAVEN_NO_GEMM_CLONES)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
void panelProduct(int64_t k, const float* packedA, const float* packedB, int64_t panel, int64_t cols,
                  int64_t rowTiles, int64_t m, float beta, float* c, int64_t ldc) {
    glm::vec4 acc[kRows][2];
    for (int64_t t = 0; t < rowTiles; ++t) {
        for (int64_t jt = 0; jt < panel; jt += kCols) {
            microTile(k, packedA + t * k * kRows, packedB + jt, panel, acc);
            for (int64_t r = 0; r < kRows && t * kRows + r < m; ++r) {
                float* row = c + (t * kRows + r) * ldc + jt;
                for (int64_t j = 0; j < kCols && jt + j < cols; ++j) {
                    const float sum = acc[r][j / 4][static_cast<int>(j % 4)];
                    if (beta == 0.0f) {
                        row[j] = sum;
                    } else {
                        const float scaled = beta * row[j];
                        row[j] = scaled + sum;
                    }
                }
            }
        }
    }
}

}  // namespace

void sgemmFixedOrder(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool transA, const float* b,
                     int64_t ldb, bool transB, float beta, float* c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    const int64_t rowTiles = (m + kRows - 1) / kRows;
    // A packed as [rowTile][p][4], rows past m zero (their results are never stored). Both buffers are
    // this thread's scratch (Scratch.h): written here before they are read.
    float* packedA = scratch(ScratchSlot::GemmPackedA, rowTiles * std::max<int64_t>(k, 1) * kRows);
    for (int64_t i = m; i < rowTiles * kRows; ++i)
        for (int64_t p = 0; p < k; ++p) packedA[((i / kRows) * k + p) * kRows + i % kRows] = 0.0f;
    for (int64_t i = 0; i < m; ++i)
        for (int64_t p = 0; p < k; ++p)
            packedA[((i / kRows) * k + p) * kRows + i % kRows] = transA ? a[p * lda + i] : a[i * lda + p];
    float* packedB = scratch(ScratchSlot::GemmPackedB, std::max<int64_t>(k, 1) * kPanelCols);
    for (int64_t j0 = 0; j0 < n; j0 += kPanelCols) {
        const int64_t cols = std::min(kPanelCols, n - j0);
        const int64_t panel = (cols + kCols - 1) / kCols * kCols;
        for (int64_t p = 0; p < k; ++p)
            for (int64_t j = 0; j < panel; ++j)
                packedB[p * panel + j] =
                    j < cols ? (transB ? b[(j0 + j) * ldb + p] : b[p * ldb + j0 + j]) : 0.0f;
        panelProduct(k, packedA, packedB, panel, cols, rowTiles, m, beta, c + j0, ldc);
    }
}

float fixedOrderMultiplyAdd(float a, float b, float c) {
    const float product = a * b;
    return product + c;
}

}  // namespace raven::cpu::kernels
