// Batched GEMM through Eigen, split by ThreadPool into (batch, row block) tasks.
//
// Each operand matrix is mapped in place when it is row-major or column-major with a unit inner
// stride (transposed views need no copy); other layouts are copied first. The row block size is a
// function of M, N, K only (never of the thread count), and Eigen's blocking depends only on the
// sizes of each call, so results are identical for any number of threads.
#include <Eigen/Core>
#include <algorithm>

#include "base/Error.h"
#include "cpu/CpuBackend.h"

namespace raven {

namespace {
using RowMajorMap = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                               Eigen::OuterStride<>>;
using ColMajorMap = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>, 0,
                               Eigen::OuterStride<>>;
using OutMap = Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// How one matrix of a batch lies in memory.
struct MatrixLayout {
    bool rowMajor = true;
    int64_t outerStride = 0;
    bool mappable = false;
};

MatrixLayout classify(int64_t rows, int64_t cols, int64_t rowStride, int64_t colStride) {
    if ((colStride == 1 || cols == 1) && (rows == 1 || rowStride >= cols)) {
        return {true, rows == 1 ? cols : rowStride, true};
    }
    if ((rowStride == 1 || rows == 1) && (cols == 1 || colStride >= rows)) {
        return {false, cols == 1 ? rows : colStride, true};
    }
    return {};
}

// Offset of batch element `index` (row-major over the batch dimensions) of t.
int64_t batchOffset(const Tensor& t, int64_t index) {
    int64_t offset = 0;
    for (int64_t d = t.dim() - 3; d >= 0; --d) {
        const auto ud = static_cast<size_t>(d);
        offset += (index % t.shape()[ud]) * t.strides()[ud];
        index /= t.shape()[ud];
    }
    return offset;
}

template <class MapA, class MapB>
void gemmBlock(const MapA& a, const MapB& b, const float* bias, float* out, int64_t rows, int64_t n) {
    OutMap c(out, rows, n);
    if (bias) {
        c.rowwise() = Eigen::Map<const Eigen::RowVectorXf>(bias, n);
        c.noalias() += a * b;
    } else {
        c.noalias() = a * b;
    }
}

template <class MapA>
void gemmWithB(const MapA& a, const float* pb, const MatrixLayout& lb, int64_t k, int64_t n, const float* bias,
               float* out, int64_t rows) {
    if (lb.rowMajor) {
        gemmBlock(a, RowMajorMap(pb, k, n, Eigen::OuterStride<>(lb.outerStride)), bias, out, rows, n);
    } else {
        gemmBlock(a, ColMajorMap(pb, k, n, Eigen::OuterStride<>(lb.outerStride)), bias, out, rows, n);
    }
}
}  // namespace

Tensor CpuBackend::matmul(const Tensor& aIn, const Tensor& bIn, const Tensor& bias) {
    RAVEN_ASSERT(aIn.dim() >= 2 && aIn.dim() == bIn.dim(), "CpuBackend::matmul: operand ranks");
    const int64_t m = aIn.size(-2), k = aIn.size(-1), n = bIn.size(-1);
    RAVEN_ASSERT(bIn.size(-2) == k, "CpuBackend::matmul: inner sizes differ");
    Shape outShape(aIn.shape().begin(), aIn.shape().end() - 2);
    RAVEN_ASSERT(outShape == Shape(bIn.shape().begin(), bIn.shape().end() - 2), "CpuBackend::matmul: batch sizes");
    const int64_t batch = numelOf(outShape);
    outShape.insert(outShape.end(), {m, n});
    Tensor out = empty(outShape);
    if (out.numel() == 0) return out;
    float* po = hostData(out);
    if (k == 0) {
        for (int64_t i = 0; i < out.numel(); ++i) po[i] = 0.0f;
    }

    Tensor a = aIn, b = bIn;
    MatrixLayout la = classify(m, k, a.strides()[a.strides().size() - 2], a.strides().back());
    if (!la.mappable) {
        a = a.contiguous();
        la = classify(m, k, k, 1);
    }
    MatrixLayout lb = classify(k, n, b.strides()[b.strides().size() - 2], b.strides().back());
    if (!lb.mappable) {
        b = b.contiguous();
        lb = classify(k, n, n, 1);
    }
    Tensor biasC = bias.defined() ? bias.contiguous() : Tensor();
    const float* pbias = biasC.defined() ? hostData(biasC) : nullptr;
    const float* pa = hostData(a);
    const float* pb = hostData(b);

    // Rows per task: enough work to pay for a thread hand-off, a multiple of 64, from the shape alone.
    const int64_t work = std::max<int64_t>(1, n * k);
    const int64_t rowsPerBlock = std::min(m, std::max<int64_t>(64, ((1 << 20) / work + 63) / 64 * 64));
    const int64_t blocks = (m + rowsPerBlock - 1) / rowsPerBlock;

    pool_->parallelFor(batch * blocks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t task = begin; task < end; ++task) {
            const int64_t bi = task / blocks, r0 = (task % blocks) * rowsPerBlock;
            const int64_t rows = std::min(rowsPerBlock, m - r0);
            float* o = po + (bi * m + r0) * n;
            if (k == 0) {
                if (pbias) for (int64_t r = 0; r < rows; ++r) std::copy(pbias, pbias + n, o + r * n);
                continue;
            }
            const float* aBlock = pa + batchOffset(a, bi) + r0 * (la.rowMajor ? la.outerStride : 1);
            const float* bMat = pb + batchOffset(b, bi);
            if (la.rowMajor) {
                gemmWithB(RowMajorMap(aBlock, rows, k, Eigen::OuterStride<>(la.outerStride)), bMat, lb, k, n, pbias,
                          o, rows);
            } else {
                gemmWithB(ColMajorMap(aBlock, rows, k, Eigen::OuterStride<>(la.outerStride)), bMat, lb, k, n, pbias,
                          o, rows);
            }
        }
    });
    return out;
}

}  // namespace raven
