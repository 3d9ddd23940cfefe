#pragma once
// sgemmFixedOrder: the matrix product of the verifiable kernel mode (tensor/KernelMode.h), with
// sgemm's interface (Gemm.h). Every output element is
//     acc = 0;  for p = 0 .. k-1:  acc = acc + a(i, p) * b(p, j)   (a rounded product, then a rounded sum)
//     c(i, j) = beta == 0 ? acc : beta * c(i, j) + acc
// whatever the CPU, the vector width, the blocking of the caller or the number of threads: the order
// the shaders of the verifiable mode follow too. OpenBLAS and Eigen choose their blocking (and so
// their summation order) by CPU type, which is why the verifiable mode never calls them.
//
// The kernel computes 4 rows x 16 columns at a time, each row as two 8-lane vectors (each lane its own
// element, so the vector width changes nothing), over packed copies of A and B. Built without
// contraction and without fast-math (CMakeLists.txt), so no product is fused into its sum.
#include <cstdint>

namespace raven::cpu::kernels {

void sgemmFixedOrder(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool transA, const float* b,
                     int64_t ldb, bool transB, float beta, float* c, int64_t ldc);

// B packed once for a product split into row blocks (CpuMatmul's tasks, on any threads), which would
// otherwise each pack all of B again: the same bits as sgemmFixedOrder, whose packing this is. The
// packed B holds (n + 63) / 64 panels of 64 columns (the last one's width rounded up to 16), each
// k x its width; packBFixedOrder packs the panels [panelBegin, panelEnd), so that threads may share
// the work, into a buffer of fixedOrderPackedBSize(n, k) floats.
int64_t fixedOrderPanels(int64_t n);
int64_t fixedOrderPackedBSize(int64_t n, int64_t k);
void packBFixedOrder(int64_t n, int64_t k, const float* b, int64_t ldb, bool transB, int64_t panelBegin,
                     int64_t panelEnd, float* packedB);
void sgemmFixedOrderPackedB(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool transA,
                            const float* packedB, float beta, float* c, int64_t ldc);

// The signature shared by sgemm and sgemmFixedOrder, for kernels that take either.
using SgemmFn = void (*)(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool transA, const float* b,
                         int64_t ldb, bool transB, float beta, float* c, int64_t ldc);

// A product a*b + c, rounded twice, computed where the compiler could fuse it if it were allowed to:
// the verifiable kernels' translation unit's own contraction probe (tests check it is unfused).
float fixedOrderMultiplyAdd(float a, float b, float c);

}  // namespace raven::cpu::kernels
