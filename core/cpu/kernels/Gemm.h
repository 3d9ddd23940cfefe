#pragma once
// sgemm: the one single-precision matrix product that every CPU kernel calls (matmul, conv2d, attention
// use it through the backend), on the calling thread.
//
// Which code runs is chosen when the program runs, not when it is built: with OpenBLAS (the default
// build on Debian, libopenblas0) the library picks its kernels for the CPU it finds (AVX2, AVX-512),
// so a .deb built for generic x86-64 still uses the wide instructions; without it (RAVEN_WITH_OPENBLAS
// off, or OpenBLAS not found at configure time) Eigen's product compiled for the build's target runs.
//
// Threads: OpenBLAS is told to use one thread per call (openblas_set_num_threads(1) before the first
// product). The backend's ThreadPool splits products into blocks whose extent depends on the shapes
// alone and runs one block per call, so the rounding never depends on the number of threads (see
// cpu/kernels/Parallel.h); OpenBLAS's own threads would pick their split from the thread count.
#include <cstdint>
#include <string>

namespace raven::cpu::kernels {

// C = op(A) op(B) + beta C, all row-major: C is m x n with row stride ldc; op(A) is m x k, stored as
// A (row stride lda) or, when transA, as A^T (k x m, row stride lda); likewise op(B) is k x n. beta 0
// ignores what C held (NaNs included). k may be 0 (then C = beta C).
void sgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool transA, const float* b, int64_t ldb,
           bool transB, float beta, float* c, int64_t ldc);

// What computes sgemm, e.g. "OpenBLAS 0.3.21 (core Cooperlake), 1 thread per call" or "Eigen 3.4.0".
std::string gemmLibrary();

}  // namespace raven::cpu::kernels
