// Batched GEMM through kernels::sgemm (OpenBLAS, chosen per CPU at run time; Eigen without it), split
// by ThreadPool into (batch, row block) tasks, one single-threaded sgemm call each.
//
// Each operand matrix is passed in place when it is row-major or column-major with a unit inner
// stride (transposed views need no copy); other layouts are copied first. The row block size is a
// function of M, N, K only (never of the thread count), and each call's blocking depends only on its
// own sizes, so results are identical for any number of threads.
#include <algorithm>

#include "base/Error.h"
#include "cpu/CpuBackend.h"
#include "cpu/kernels/Gemm.h"
#include "cpu/kernels/Scratch.h"
#include "cpu/kernels/VerifiableGemm.h"

namespace raven {

namespace {
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

// Rows per task, from the shape alone: a multiple of 64, at least about 2^20 multiply-adds (a thread
// hand-off costs microseconds), and at most 16 blocks per matrix, because every OpenBLAS call packs all
// of B again (the verifiable mode packs it once per product).
int64_t rowsPerBlock(int64_t m, int64_t n, int64_t k) {
    const auto roundUp64 = [](int64_t v) { return (v + 63) / 64 * 64; };
    const int64_t work = std::max<int64_t>(1, n * k);
    return std::min(m, std::max({int64_t{64}, roundUp64((int64_t{1} << 20) / work), roundUp64((m + 15) / 16)}));
}
}  // namespace

std::string CpuBackend::gemmName() { return cpu::kernels::gemmLibrary(); }

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

    // The verifiable mode's product has one summation order on every CPU (VerifiableGemm.h); the row
    // blocks below do not change it, since each element is summed by one call.
    const cpu::kernels::SgemmFn gemm =
        kernelMode_ == KernelMode::Verifiable ? &cpu::kernels::sgemmFixedOrder : &cpu::kernels::sgemm;
    const int64_t rowsPer = rowsPerBlock(m, n, k);
    const int64_t blocks = (m + rowsPer - 1) / rowsPer;

    // In the verifiable mode with several row blocks, B is packed once, its panels shared out among the
    // threads, rather than by every block again (OpenBLAS's calls are left to pack their own).
    const bool shareB = kernelMode_ == KernelMode::Verifiable && blocks > 1;
    const int64_t panels = cpu::kernels::fixedOrderPanels(n), packedSize = cpu::kernels::fixedOrderPackedBSize(n, k);
    float* packedB =
        shareB ? cpu::kernels::scratch(cpu::kernels::ScratchSlot::GemmSharedB, batch * packedSize) : nullptr;
    if (shareB) {
        pool_->parallelFor(batch * panels, 1, [&](int64_t begin, int64_t end) {
            for (int64_t task = begin; task < end; ++task) {
                const int64_t bi = task / panels, panel = task % panels;
                cpu::kernels::packBFixedOrder(n, k, pb + batchOffset(b, bi), lb.outerStride, !lb.rowMajor, panel,
                                              panel + 1, packedB + bi * packedSize);
            }
        });
    }

    pool_->parallelFor(batch * blocks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t task = begin; task < end; ++task) {
            const int64_t bi = task / blocks, r0 = (task % blocks) * rowsPer;
            const int64_t rows = std::min(rowsPer, m - r0);
            float* o = po + (bi * m + r0) * n;
            if (pbias)
                for (int64_t r = 0; r < rows; ++r) std::copy(pbias, pbias + n, o + r * n);
            const float* aBlock = pa + batchOffset(a, bi) + r0 * (la.rowMajor ? la.outerStride : 1);
            if (shareB)
                cpu::kernels::sgemmFixedOrderPackedB(rows, n, k, aBlock, la.outerStride, !la.rowMajor,
                                                     packedB + bi * packedSize, pbias ? 1.0f : 0.0f, o, n);
            else
                gemm(rows, n, k, aBlock, la.outerStride, !la.rowMajor, pb + batchOffset(b, bi), lb.outerStride,
                     !lb.rowMajor, pbias ? 1.0f : 0.0f, o, n);
        }
    });
    return out;
}

}  // namespace raven
