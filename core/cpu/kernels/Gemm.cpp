#include "cpu/kernels/Gemm.h"

#include <algorithm>

#include "base/Error.h"

#if RAVEN_HAVE_OPENBLAS
#include <cblas.h>
#else
#include <Eigen/Core>
#endif

namespace raven::cpu::kernels {

#if RAVEN_HAVE_OPENBLAS

namespace {
// Once, before the first product: OpenBLAS would otherwise start a thread per core and split each
// call by their number.
bool singleThreaded() {
    static const bool done = [] {
        openblas_set_num_threads(1);
        return true;
    }();
    return done;
}
}  // namespace

void sgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool transA, const float* b, int64_t ldb,
           bool transB, float beta, float* c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    (void)singleThreaded();
    if (k <= 0) {
        // OpenBLAS scales C by beta here too, but beta 0 must also clear NaNs.
        for (int64_t r = 0; r < m; ++r) {
            float* row = c + r * ldc;
            if (beta == 0.0f)
                std::fill(row, row + n, 0.0f);
            else
                for (int64_t j = 0; j < n; ++j) row[j] *= beta;
        }
        return;
    }
    // BLAS requires leading dimensions of at least the stored row length, even for one row.
    lda = std::max<int64_t>(lda, transA ? m : k);
    ldb = std::max<int64_t>(ldb, transB ? k : n);
    ldc = std::max<int64_t>(ldc, n);
    RAVEN_ASSERT(m < (int64_t{1} << 31) && n < (int64_t{1} << 31) && k < (int64_t{1} << 31) &&
                     lda < (int64_t{1} << 31) && ldb < (int64_t{1} << 31) && ldc < (int64_t{1} << 31),
                 "sgemm: sizes beyond OpenBLAS's 32-bit integers");
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), 1.0f, a,
                static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

std::string gemmLibrary() {
    (void)singleThreaded();
    std::string config = openblas_get_config();
    // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64": the version is the second word.
    const auto space = config.find(' ', 9);
    const std::string version = config.compare(0, 9, "OpenBLAS ") == 0 ? config.substr(0, space) : "OpenBLAS";
    return version + " (core " + openblas_get_corename() + "), 1 thread per call";
}

#else

namespace {
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ColMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
template <class M>
using ConstMap = Eigen::Map<const M, 0, Eigen::OuterStride<> >;
using OutMap = Eigen::Map<RowMajor, 0, Eigen::OuterStride<> >;

template <class MapA, class MapB>
void product(const MapA& a, const MapB& b, float beta, OutMap& c) {
    if (beta == 0.0f)
        c.noalias() = a * b;
    else if (beta == 1.0f)
        c.noalias() += a * b;
    else
        c = beta * c + a * b;
}

template <class MapA>
void withB(const MapA& a, const float* b, int64_t ldb, bool transB, int64_t k, int64_t n, float beta, OutMap& c) {
    if (transB)
        product(a, ConstMap<ColMajor>(b, k, n, Eigen::OuterStride<>(ldb)), beta, c);
    else
        product(a, ConstMap<RowMajor>(b, k, n, Eigen::OuterStride<>(ldb)), beta, c);
}
}  // namespace

void sgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool transA, const float* b, int64_t ldb,
           bool transB, float beta, float* c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    OutMap out(c, m, n, Eigen::OuterStride<>(std::max<int64_t>(ldc, n)));
    if (k <= 0) {
        if (beta == 0.0f)
            out.setZero();
        else
            out *= beta;
        return;
    }
    lda = std::max<int64_t>(lda, transA ? m : k);
    ldb = std::max<int64_t>(ldb, transB ? k : n);
    if (transA)
        withB(ConstMap<ColMajor>(a, m, k, Eigen::OuterStride<>(lda)), b, ldb, transB, k, n, beta, out);
    else
        withB(ConstMap<RowMajor>(a, m, k, Eigen::OuterStride<>(lda)), b, ldb, transB, k, n, beta, out);
}

std::string gemmLibrary() {
    return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
           std::to_string(EIGEN_MINOR_VERSION) + " (SIMD of the build's target)";
}

#endif

}  // namespace raven::cpu::kernels
