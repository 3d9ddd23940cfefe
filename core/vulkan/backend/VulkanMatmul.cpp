// Batched GEMM with a fused bias: compute-shaders/gemm_tiled.comp or gemm_blocked.comp in the variant
// GemmVariants.cpp chooses, and gemm_splitk_reduce.comp after a split-k product. Operands of any strides are read in
// place (transposed weights included); batch dimensions are merged where both operands allow, and
// copied to contiguous only when more than three distinct batch dimensions remain.
//
// Operands larger than one binding (BindingWindow.h): the product is computed per batch element, in
// pieces of rows, columns and K small enough that every operand's piece fits a binding window; pieces
// along K run one after another, each continuing the sums the previous one stored in C (the shader's
// accumulate flag), so every element still adds its products in ascending k and the result is the
// same bit for bit. A split-k product is cut the same way slice by slice, and its second pass by runs
// of outputs and slices.
#include "vulkan/backend/BindingWindow.h"
#include "vulkan/backend/GemmTiles.h"
#include "vulkan/backend/StridedLayout.h"
#include "vulkan/backend/VulkanBackend.h"

#include "base/Error.h"

#include <algorithm>
#include <array>

namespace raven {

using vulkan::Access;
using vulkan::BufferRange;

namespace vkb {
namespace {

struct GemmPush {
    uint32_t m, n, k;
    uint32_t aOffset, bOffset, cOffset, biasOffset;
    uint32_t flags, biasStride;
    uint32_t aRowStride, aColStride, bRowStride, bColStride;
    uint32_t ldc, cBatchStride;
    uint32_t splits, kSplit, cSplitStride;
    uint32_t batchShape[3];
    uint32_t aBatchStride[3];
    uint32_t bBatchStride[3];
};
static_assert(sizeof(GemmPush) <= 128, "push constants beyond the guaranteed 128 bytes");

struct ReducePush {
    uint32_t n, splits, partOffset, sliceStride, cOffset, biasOffset, biasStride, columns, colBase, flags;
};

constexpr uint32_t kAddBias = 1, kAccumulate = 2;
constexpr std::size_t kBatchRank = 3;

// The load modes of gemm_tiled.comp and gemm_blocked.comp.
constexpr uint32_t kLoadPlain = 0, kLoadTransposed = 1, kLoadVec4 = 2, kLoadVec4Transposed = 3;

// One dispatch of gemm_tiled.comp, offsets in elements of each operand's storage.
struct GemmJob {
    int64_t m = 0, n = 0, k = 0;
    int64_t aOffset = 0, bOffset = 0, cOffset = 0, biasOffset = 0;
    int64_t aRs = 0, aCs = 0, bRs = 0, bCs = 0, biasStride = 0, ldc = 0, cBatchStride = 0;
    std::array<int64_t, kBatchRank> batchShape{1, 1, 1}, aBatch{}, bBatch{};
    int64_t splits = 1, kSplit = 0, cSplitStride = 0;
    bool bias = false, accumulate = false;

    int64_t batchCount() const { return batchShape[0] * batchShape[1] * batchShape[2]; }
    int64_t batchReach(const std::array<int64_t, kBatchRank>& strides) const {
        int64_t r = 0;
        for (std::size_t d = 0; d < kBatchRank; ++d) r += (batchShape[d] - 1) * strides[d];
        return r;
    }
    int64_t reachA() const { return 1 + (m - 1) * aRs + (std::max<int64_t>(k, 1) - 1) * aCs + batchReach(aBatch); }
    int64_t reachB() const { return 1 + (std::max<int64_t>(k, 1) - 1) * bRs + (n - 1) * bCs + batchReach(bBatch); }
    int64_t reachC() const {
        return 1 + (m - 1) * ldc + (n - 1) + (batchCount() - 1) * cBatchStride + (splits - 1) * cSplitStride;
    }
    int64_t reachBias() const { return 1 + (n - 1) * biasStride; }
};

// The storages a product reads and writes (bias undefined: none).
struct GemmOperands {
    const Tensor& a;
    const Tensor& b;
    const Tensor& bias;
    const Tensor& c;
};

bool batchAligned(const GemmJob& job, const std::array<int64_t, kBatchRank>& strides) {
    for (std::size_t d = 0; d < kBatchRank; ++d)
        if (job.batchShape[d] > 1 && strides[d] % 4 != 0) return false;
    return true;
}

// How gemm_tiled loads A: vec4 along the contiguous axis where everything is aligned (see the shader).
uint32_t loadModeA(const GemmJob& job, int64_t offset, const GemmTile& tile, bool vectorLoads) {
    const uint32_t scalar = (job.aCs != 1 && job.aRs == 1) ? kLoadTransposed : kLoadPlain;
    if (!vectorLoads || offset % 4 != 0 || !batchAligned(job, job.aBatch)) return scalar;
    if (job.aCs == 1 && job.aRs % 4 == 0 && job.k % 4 == 0 && job.kSplit % 4 == 0 && tile.bk % 4 == 0) return kLoadVec4;
    if (job.aRs == 1 && job.aCs % 4 == 0 && job.m % 4 == 0) return kLoadVec4Transposed;
    return scalar;
}

uint32_t loadModeB(const GemmJob& job, int64_t offset, const GemmTile& tile, bool vectorLoads) {
    const uint32_t scalar = (job.bCs != 1 && job.bRs == 1) ? kLoadTransposed : kLoadPlain;
    if (!vectorLoads || offset % 4 != 0 || !batchAligned(job, job.bBatch)) return scalar;
    if (job.bCs == 1 && job.bRs % 4 == 0 && job.n % 4 == 0) return kLoadVec4;
    if (job.bRs == 1 && job.bCs % 4 == 0 && job.k % 4 == 0 && job.kSplit % 4 == 0 && tile.bk % 4 == 0)
        return kLoadVec4Transposed;
    return scalar;
}

// Whether gemm_blocked may read and write C as vec4: every row of every batch element and slice starts
// on a multiple of 4 floats, and a row holds whole vec4s.
bool vectorStoresC(const GemmJob& job, int64_t offset) {
    return offset % 4 == 0 && job.n % 4 == 0 && job.ldc % 4 == 0 && job.cBatchStride % 4 == 0 &&
           job.cSplitStride % 4 == 0;
}

void dispatchGemm(VulkanBackend& backend, const GemmOperands& ops, const GemmJob& job, const GemmVariant& variant) {
    const BindingWindows windows(backend.device());
    const BindingWindow aw = windows.over(backend.rangeOf(ops.a), job.aOffset, job.reachA());
    const BindingWindow bw = windows.over(backend.rangeOf(ops.b), job.bOffset, job.reachB());
    const BindingWindow cw = windows.over(backend.rangeOf(ops.c), job.cOffset, job.reachC());
    const BindingWindow biasW =
        job.bias ? windows.over(backend.rangeOf(ops.bias), job.biasOffset, job.reachBias()) : aw;

    GemmPush push{};
    push.m = narrowToU32(job.m);
    push.n = narrowToU32(job.n);
    push.k = narrowToU32(job.k);
    push.aOffset = narrowToU32(job.aOffset - aw.start);
    push.bOffset = narrowToU32(job.bOffset - bw.start);
    push.cOffset = narrowToU32(job.cOffset - cw.start);
    push.biasOffset = job.bias ? narrowToU32(job.biasOffset - biasW.start) : 0;
    push.flags = (job.bias ? kAddBias : 0) | (job.accumulate ? kAccumulate : 0);
    push.biasStride = narrowToU32(job.biasStride);
    push.aRowStride = narrowToU32(job.aRs);
    push.aColStride = narrowToU32(job.aCs);
    push.bRowStride = narrowToU32(job.bRs);
    push.bColStride = narrowToU32(job.bCs);
    push.ldc = narrowToU32(job.ldc);
    push.cBatchStride = narrowToU32(job.cBatchStride);
    push.splits = narrowToU32(job.splits);
    push.kSplit = narrowToU32(job.kSplit);
    push.cSplitStride = narrowToU32(job.cSplitStride);
    for (std::size_t d = 0; d < kBatchRank; ++d) {
        push.batchShape[d] = narrowToU32(job.batchShape[d]);
        push.aBatchStride[d] = narrowToU32(job.aBatch[d]);
        push.bBatchStride[d] = narrowToU32(job.bBatch[d]);
    }

    const GemmTile& tile = variant.tile;
    const uint32_t aLoad = loadModeA(job, job.aOffset - aw.start, tile, variant.vectorLoads);
    const uint32_t bLoad = loadModeB(job, job.bOffset - bw.start, tile, variant.vectorLoads);
    std::vector<uint32_t> constants{tile.bm, tile.bn, tile.bk, tile.tm, tile.tn, tile.threads(), aLoad, bLoad};
    const bool blocked = tile.kernel == GemmKernel::Blocked;
    if (blocked) constants.push_back(variant.vectorLoads && vectorStoresC(job, job.cOffset - cw.start) ? 1 : 0);
    const vulkan::Pipeline& gemm =
        backend.pipeline({blocked ? "gemm_blocked" : "gemm_tiled", 4, sizeof(GemmPush), std::move(constants)});
    const vulkan::Groups groups{narrowToU32((job.n + tile.bn - 1) / tile.bn),
                                narrowToU32((job.m + tile.bm - 1) / tile.bm),
                                narrowToU32(job.batchCount() * job.splits)};
    const auto batch = static_cast<double>(job.batchCount());
    const auto m = static_cast<double>(job.m), n = static_cast<double>(job.n), k = static_cast<double>(job.k);
    backend.recorder().describeNext("matmul", 2.0 * batch * m * n * k, 4.0 * batch * (m * k + k * n + m * n));
    backend.recorder().dispatch(gemm,
                                {{aw.range, Access::Read},
                                 {bw.range, Access::Read},
                                 {biasW.range, Access::Read},
                                 {cw.range, job.accumulate ? Access::ReadWrite : Access::Write}},
                                push, groups);
}

// The job, when an operand exceeds one binding: per batch element, in pieces of rows, columns and K
// whose every operand fits a window; pieces along K continue each other's sums (see the file header).
void windowedGemm(VulkanBackend& backend, const GemmOperands& ops, const GemmJob& job, const GemmVariant& variant) {
    const int64_t cap = BindingWindows(backend.device()).capacity();
    const int64_t kSpan = std::max<int64_t>(job.k, 1);
    int64_t mc = job.m, nc = job.n, kc = kSpan;
    // Halve the extent that contributes most to the piece that does not fit; multiples of 64 keep whole
    // tiles and vec4-aligned K offsets.
    const auto shrink = [](int64_t& x) { x = x > 64 ? (x / 2 + 63) / 64 * 64 : (x + 1) / 2; };
    while (true) {
        const int64_t rA = 1 + (mc - 1) * job.aRs + (kc - 1) * job.aCs;
        const int64_t rB = 1 + (kc - 1) * job.bRs + (nc - 1) * job.bCs;
        const int64_t rC = 1 + (mc - 1) * job.ldc + (nc - 1);
        const int64_t rBias = job.bias ? 1 + (nc - 1) * job.biasStride : 1;
        if (rA > cap)
            shrink((mc - 1) * job.aRs >= (kc - 1) * job.aCs ? mc : kc);
        else if (rB > cap)
            shrink((kc - 1) * job.bRs >= (nc - 1) * job.bCs ? kc : nc);
        else if (rC > cap)
            shrink((mc - 1) * job.ldc >= nc - 1 ? mc : nc);
        else if (rBias > cap)
            shrink(nc);
        else
            break;
    }
    for (int64_t b = 0; b < job.batchCount(); ++b) {
        GemmJob one = job;
        one.batchShape = {1, 1, 1};
        int64_t rem = b;
        for (std::size_t d = kBatchRank; d-- > 0;) {
            const int64_t index = rem % job.batchShape[d];
            rem /= job.batchShape[d];
            one.aOffset += index * job.aBatch[d];
            one.bOffset += index * job.bBatch[d];
        }
        one.cOffset += b * job.cBatchStride;
        for (int64_t r0 = 0; r0 < job.m; r0 += mc)
            for (int64_t c0 = 0; c0 < job.n; c0 += nc)
                for (int64_t k0 = 0; k0 < kSpan; k0 += kc) {
                    GemmJob piece = one;
                    piece.m = std::min(mc, job.m - r0);
                    piece.n = std::min(nc, job.n - c0);
                    piece.k = std::max<int64_t>(std::min(kc, job.k - k0), 0);
                    piece.kSplit = piece.k;
                    piece.splits = 1;
                    piece.cSplitStride = 0;
                    piece.aOffset = one.aOffset + r0 * job.aRs + k0 * job.aCs;
                    piece.bOffset = one.bOffset + k0 * job.bRs + c0 * job.bCs;
                    piece.cOffset = one.cOffset + r0 * job.ldc + c0;
                    piece.biasOffset = job.biasOffset + c0 * job.biasStride;
                    piece.accumulate = job.accumulate || k0 > 0;
                    piece.bias = job.bias && k0 + kc >= kSpan;
                    dispatchGemm(backend, ops, piece, variant);
                }
    }
}

// c[i] = sum over s of part[s][i] (+ bias of i's column) for the `total` outputs of an [.., n] result.
void splitKReduce(VulkanBackend& backend, const Tensor& part, const Tensor& bias, const Tensor& c, int64_t splits,
                  int64_t total, int64_t n) {
    const uint32_t local = backend.elementwiseWorkgroupSize();
    const vulkan::Pipeline& reduce = backend.pipeline({"gemm_splitk_reduce", 3, sizeof(ReducePush), {local}});
    const BindingWindows windows(backend.device());
    const BufferRange &partStorage = backend.rangeOf(part), &cStorage = backend.rangeOf(c);
    const bool hasBias = bias.defined();
    const bool biasWhole = !hasBias || windows.fitsWhole(backend.rangeOf(bias));
    const bool whole = windows.fitsWhole(partStorage) && windows.fitsWhole(cStorage) && biasWhole;
    const int64_t cap = windows.capacity();
    const int64_t biasStride = hasBias ? bias.strides()[0] : 0;

    // Runs of outputs [e0, e0 + count): all at once, or windows; within one row when the bias itself
    // needs a window (so the columns of a run do not wrap).
    const auto run = [&](int64_t e0, int64_t count) {
        const int64_t perDispatch =
            whole ? splits
                  : ((splits - 1) * total + count <= cap ? splits : std::max<int64_t>(1, (cap - count) / total + 1));
        for (int64_t s0 = 0; s0 < splits; s0 += perDispatch) {
            const int64_t ns = std::min(perDispatch, splits - s0);
            const bool last = s0 + ns >= splits;
            const int64_t partFirst = part.offset() + s0 * total + e0, cFirst = c.offset() + e0;
            const BindingWindow pw = windows.over(partStorage, partFirst, (ns - 1) * total + count);
            const BindingWindow cw = windows.over(cStorage, cFirst, count);
            ReducePush push{};
            push.n = narrowToU32(count);
            push.splits = narrowToU32(ns);
            push.partOffset = narrowToU32(partFirst - pw.start);
            push.sliceStride = narrowToU32(total);
            push.cOffset = narrowToU32(cFirst - cw.start);
            push.flags = (hasBias && last ? kAddBias : 0) | (s0 > 0 ? kAccumulate : 0);
            BindingWindow biasW = pw;
            if (hasBias && biasWhole) {
                biasW = windows.over(backend.rangeOf(bias), bias.offset(), 1 + (n - 1) * biasStride);
                push.biasOffset = narrowToU32(bias.offset() - biasW.start);
                push.columns = narrowToU32(n);
                push.colBase = narrowToU32(e0 % n);
            } else if (hasBias) {
                const int64_t biasFirst = bias.offset() + (e0 % n) * biasStride;
                biasW = windows.over(backend.rangeOf(bias), biasFirst, 1 + (count - 1) * biasStride);
                push.biasOffset = narrowToU32(biasFirst - biasW.start);
                push.columns = narrowToU32(count);  // the run lies within one row, from column e0 % n
                push.colBase = 0;
            } else {
                push.columns = 1;
            }
            push.biasStride = narrowToU32(biasStride);
            backend.recorder().describeNext("matmul_splitk_reduce", static_cast<double>(ns * count),
                                            4.0 * static_cast<double>((ns + 1) * count));
            backend.recorder().dispatch(reduce,
                                        {{pw.range, Access::Read},
                                         {biasW.range, Access::Read},
                                         {cw.range, s0 > 0 ? Access::ReadWrite : Access::Write}},
                                        push, vulkan::Recorder::groupsFor(static_cast<uint64_t>(count), local));
        }
    };
    if (whole) {
        run(0, total);
    } else if (biasWhole) {
        for (int64_t e0 = 0; e0 < total; e0 += cap) run(e0, std::min(cap, total - e0));
    } else {
        const int64_t perRun = std::min(cap, (cap - 1) / std::max<int64_t>(biasStride, 1) + 1);
        for (int64_t row = 0; row < total / n; ++row)
            for (int64_t c0 = 0; c0 < n; c0 += perRun) run(row * n + c0, std::min(perRun, n - c0));
    }
}

StridedLayout<2> batchLayout(const Tensor& a, const Tensor& b) {
    const auto batchDims = static_cast<std::ptrdiff_t>(a.dim() - 2);
    const Shape shape(a.shape().begin(), a.shape().begin() + batchDims);
    const Strides sa(a.strides().begin(), a.strides().begin() + batchDims);
    const Strides sb(b.strides().begin(), b.strides().begin() + batchDims);
    return coalesce<2>(shape, {&sa, &sb});
}

}  // namespace

Tensor matmulWith(VulkanBackend& backend, const Tensor& aIn, const Tensor& bIn, const Tensor& bias,
                  const GemmVariant& variant) {
    RAVEN_ASSERT(aIn.dim() >= 2 && aIn.dim() == bIn.dim(), "VulkanBackend::matmul: operand ranks");
    const int64_t m = aIn.size(-2), k = aIn.size(-1), n = bIn.size(-1);
    RAVEN_ASSERT(bIn.size(-2) == k, "VulkanBackend::matmul: inner sizes differ");
    Shape outShape(aIn.shape().begin(), aIn.shape().end() - 2);
    RAVEN_ASSERT(outShape == Shape(bIn.shape().begin(), bIn.shape().end() - 2), "VulkanBackend::matmul: batch sizes");
    const int64_t batch = numelOf(outShape);
    outShape.insert(outShape.end(), {m, n});
    Tensor out = backend.empty(outShape);
    if (out.numel() == 0) return out;

    Tensor a = aIn, b = bIn;
    auto layout = batchLayout(a, b);
    if (layout.shape.size() > kBatchRank) {
        a = a.isContiguous() ? a : backend.contiguousCopy(a);
        b = b.isContiguous() ? b : backend.contiguousCopy(b);
        layout = batchLayout(a, b);
    }

    GemmJob job;
    job.m = m;
    job.n = n;
    job.k = k;
    job.aOffset = a.offset();
    job.bOffset = b.offset();
    job.cOffset = out.offset();
    job.aRs = a.strides()[a.strides().size() - 2];
    job.aCs = a.strides().back();
    job.bRs = b.strides()[b.strides().size() - 2];
    job.bCs = b.strides().back();
    job.ldc = n;
    job.cBatchStride = m * n;
    const std::size_t pad = kBatchRank - layout.shape.size();
    for (std::size_t d = pad; d < kBatchRank; ++d) {
        job.batchShape[d] = layout.shape[d - pad];
        job.aBatch[d] = layout.strides[0][d - pad];
        job.bBatch[d] = layout.strides[1][d - pad];
    }
    if (bias.defined()) {
        job.bias = true;
        job.biasOffset = bias.offset();
        job.biasStride = bias.strides()[0];
    }

    const BindingWindows windows(backend.device());
    const auto fits = [&](const Tensor& t) { return !t.defined() || windows.fitsWhole(backend.rangeOf(t)); };
    int64_t splits = 1, kSplit = k;
    if (variant.splitK.splits > 1 && variant.splitK.kSplit > 0 && k > variant.splitK.kSplit) {
        kSplit = variant.splitK.kSplit;
        splits = (k + kSplit - 1) / kSplit;
    }
    job.kSplit = kSplit;
    if (splits == 1) {
        const GemmOperands ops{a, b, bias, out};
        if (fits(a) && fits(b) && fits(bias) && fits(out))
            dispatchGemm(backend, ops, job, variant);
        else
            windowedGemm(backend, ops, job, variant);
        return out;
    }

    // Split-k: slices of K into the partial products [splits, batch * m * n], then their sum.
    const int64_t total = batch * m * n;
    const Tensor part = backend.empty({splits, total});
    const Tensor none;
    const GemmOperands ops{a, b, none, part};
    GemmJob partial = job;
    partial.bias = false;
    partial.cOffset = part.offset();
    if (fits(a) && fits(b) && fits(part)) {
        partial.splits = splits;
        partial.cSplitStride = total;
        dispatchGemm(backend, ops, partial, variant);
    } else {
        for (int64_t s = 0; s < splits; ++s) {
            GemmJob slice = partial;
            const int64_t k0 = s * kSplit;
            slice.k = std::min(kSplit, k - k0);
            slice.kSplit = slice.k;
            slice.aOffset += k0 * job.aCs;
            slice.bOffset += k0 * job.bRs;
            slice.cOffset += s * total;
            windowedGemm(backend, ops, slice, variant);
        }
    }
    splitKReduce(backend, part, bias, out, splits, total, n);
    return out;
}

}  // namespace vkb

Tensor VulkanBackend::matmul(const Tensor& a, const Tensor& b, const Tensor& bias) {
    if (kernelMode_ == KernelMode::Verifiable) return verifiableMatmul(a, b, bias);
    RAVEN_ASSERT(a.dim() >= 2 && a.dim() == b.dim(), "VulkanBackend::matmul: operand ranks");
    int64_t batch = 1;
    for (int64_t d = 0; d + 2 < a.dim(); ++d) batch *= a.size(d);
    const vkb::GemmVariant variant = vkb::chooseGemmVariant(device().info(), a.size(-2), b.size(-1), a.size(-1), batch);
    return vkb::matmulWith(*this, a, b, bias, variant);
}

}  // namespace raven
