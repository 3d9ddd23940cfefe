#include "cpu/kernels/VerifiableGemm.h"

#include <algorithm>

#include "cpu/kernels/Scratch.h"

#if defined(__FAST_MATH__)
#error "VerifiableGemm.cpp needs IEEE arithmetic: build it without -ffast-math"
#endif

namespace raven::cpu::kernels {

namespace {

constexpr int64_t kRows = 4;        // rows of C per micro-tile
constexpr int64_t kCols = 16;       // columns of C per micro-tile: two rows of 8 lanes
constexpr int64_t kPanelCols = 64;  // columns of B packed at a time (k x 64 floats stay in L2)

// Eight independent float lanes, one output element each: GCC's vector extension, lowered to one
// 256-bit register where the clone has AVX2 and to two 128-bit ones otherwise. glm::vec4 (the kernel's
// former lane type) filled only half of an AVX2 register, and the mul and add units of the CPUs that
// run these units (separate pipes on Zen 4 and Skylake-X) sat half idle: the product ran at half of
// OpenBLAS's FMA speed for no reason of order. Each lane's products and sums are the same either way.
typedef float Lanes8 __attribute__((vector_size(32), aligned(4)));

// acc[r] = sum_p a[p][r] * b[p][0..15] in order p = 0..k-1; a is k x 4 (packed rows), b is k x panel.
[[gnu::always_inline]] inline void microTile(int64_t k, const float* a, const float* b, int64_t panel,
                                             Lanes8 acc[kRows][2]) {
    for (int64_t r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = Lanes8{};
    for (int64_t p = 0; p < k; ++p) {
        const float* bp = b + p * panel;
        Lanes8 b0, b1;  // loaded by memcpy: no Lanes8 crosses a call (its ABI differs between the clones)
        __builtin_memcpy(&b0, bp, sizeof b0);
        __builtin_memcpy(&b1, bp + 8, sizeof b1);
        const float* ap = a + p * kRows;
        for (int64_t r = 0; r < kRows; ++r) {
            const Lanes8 prod0 = ap[r] * b0;
            const Lanes8 prod1 = ap[r] * b1;
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
    Lanes8 acc[kRows][2];
    for (int64_t t = 0; t < rowTiles; ++t) {
        for (int64_t jt = 0; jt < panel; jt += kCols) {
            microTile(k, packedA + t * k * kRows, packedB + jt, panel, acc);
            if (t * kRows + kRows <= m && jt + kCols <= cols) {
                // A whole tile: rows stored as vectors, lane by lane the same operations as below (a
                // small k made the element-by-element stores cost as much as the products).
                for (int64_t r = 0; r < kRows; ++r) {
                    float* row = c + (t * kRows + r) * ldc + jt;
                    for (int64_t h = 0; h < 2; ++h) {
                        Lanes8 sum = acc[r][h];
                        if (beta != 0.0f) {
                            Lanes8 old;
                            __builtin_memcpy(&old, row + 8 * h, sizeof old);
                            const Lanes8 scaled = beta * old;
                            sum = scaled + sum;
                        }
                        __builtin_memcpy(row + 8 * h, &sum, sizeof sum);
                    }
                }
                continue;
            }
            for (int64_t r = 0; r < kRows && t * kRows + r < m; ++r) {
                float* row = c + (t * kRows + r) * ldc + jt;
                for (int64_t j = 0; j < kCols && jt + j < cols; ++j) {
                    const float sum = acc[r][j / 8][j % 8];
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

namespace {

// A packed as [rowTile][p][4], rows past m zero (their results are never stored), in this thread's
// scratch (Scratch.h): written here before it is read.
const float* packA(int64_t m, int64_t k, const float* a, int64_t lda, bool transA) {
    const int64_t rowTiles = (m + kRows - 1) / kRows;
    float* packedA = scratch(ScratchSlot::GemmPackedA, rowTiles * std::max<int64_t>(k, 1) * kRows);
    for (int64_t t = 0; t < rowTiles; ++t) {
        float* tile = packedA + t * k * kRows;
        const int64_t rows = std::min(kRows, m - t * kRows);
        if (transA) {  // the tile's rows of A are columns of the stored matrix: 4 neighbours per p
            for (int64_t p = 0; p < k; ++p) {
                const float* src = a + p * lda + t * kRows;
                for (int64_t r = 0; r < kRows; ++r) tile[p * kRows + r] = r < rows ? src[r] : 0.0f;
            }
        } else {
            for (int64_t r = 0; r < kRows; ++r) {
                if (r >= rows) {
                    for (int64_t p = 0; p < k; ++p) tile[p * kRows + r] = 0.0f;
                    continue;
                }
                const float* src = a + (t * kRows + r) * lda;
                for (int64_t p = 0; p < k; ++p) tile[p * kRows + r] = src[p];
            }
        }
    }
    return packedA;
}

// Columns [j0, j0 + cols) of B as a k x panel matrix (panel: cols rounded up to 16, the rest zero).
// Copies only, in the order that reads B contiguously (a transposed B is a row of B per column).
void packPanel(int64_t k, const float* b, int64_t ldb, bool transB, int64_t j0, int64_t cols, int64_t panel,
               float* packedB) {
    if (transB) {
        // In blocks of 64 values of p (a few KiB of strided writes stay in L1; whole cache lines read).
        for (int64_t p0 = 0; p0 < k; p0 += 64) {
            const int64_t p1 = std::min(k, p0 + 64);
            for (int64_t j = 0; j < cols; ++j) {
                const float* column = b + (j0 + j) * ldb;
                for (int64_t p = p0; p < p1; ++p) packedB[p * panel + j] = column[p];
            }
            for (int64_t j = cols; j < panel; ++j)
                for (int64_t p = p0; p < p1; ++p) packedB[p * panel + j] = 0.0f;
        }
    } else {
        for (int64_t p = 0; p < k; ++p) {
            const float* row = b + p * ldb + j0;
            float* packed = packedB + p * panel;
            std::copy(row, row + cols, packed);
            std::fill(packed + cols, packed + panel, 0.0f);
        }
    }
}

int64_t panelWidth(int64_t cols) { return (cols + kCols - 1) / kCols * kCols; }

}  // namespace

void sgemmFixedOrder(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool transA, const float* b,
                     int64_t ldb, bool transB, float beta, float* c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    const int64_t rowTiles = (m + kRows - 1) / kRows;
    const float* packedA = packA(m, k, a, lda, transA);
    float* packedB = scratch(ScratchSlot::GemmPackedB, std::max<int64_t>(k, 1) * kPanelCols);
    for (int64_t j0 = 0; j0 < n; j0 += kPanelCols) {
        const int64_t cols = std::min(kPanelCols, n - j0);
        packPanel(k, b, ldb, transB, j0, cols, panelWidth(cols), packedB);
        panelProduct(k, packedA, packedB, panelWidth(cols), cols, rowTiles, m, beta, c + j0, ldc);
    }
}

int64_t fixedOrderPanels(int64_t n) { return (n + kPanelCols - 1) / kPanelCols; }

int64_t fixedOrderPackedBSize(int64_t n, int64_t k) { return std::max<int64_t>(k, 1) * panelWidth(n); }

void packBFixedOrder(int64_t n, int64_t k, const float* b, int64_t ldb, bool transB, int64_t panelBegin,
                     int64_t panelEnd, float* packedB) {
    for (int64_t j0 = panelBegin * kPanelCols; j0 < std::min(n, panelEnd * kPanelCols); j0 += kPanelCols) {
        const int64_t cols = std::min(kPanelCols, n - j0);
        packPanel(k, b, ldb, transB, j0, cols, panelWidth(cols), packedB + j0 * k);
    }
}

void sgemmFixedOrderPackedB(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool transA,
                            const float* packedB, float beta, float* c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    const int64_t rowTiles = (m + kRows - 1) / kRows;
    const float* packedA = packA(m, k, a, lda, transA);
    for (int64_t j0 = 0; j0 < n; j0 += kPanelCols) {
        const int64_t cols = std::min(kPanelCols, n - j0);
        panelProduct(k, packedA, packedB + j0 * k, panelWidth(cols), cols, rowTiles, m, beta, c + j0, ldc);
    }
}

float fixedOrderMultiplyAdd(float a, float b, float c) {
    const float product = a * b;
    return product + c;
}

}  // namespace raven::cpu::kernels
