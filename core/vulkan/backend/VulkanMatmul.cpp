// Batched GEMM with a fused bias: compute-shaders/gemm_tiled.comp. Operands of any strides are read in
// place (transposed weights included); batch dimensions are merged where both operands allow, and
// copied to contiguous only when more than three distinct batch dimensions remain.
#include "vulkan/backend/GemmTiles.h"
#include "vulkan/backend/StridedLayout.h"
#include "vulkan/backend/VulkanBackend.h"

#include "base/Error.h"

#include <algorithm>

namespace raven {

using vulkan::Access;

namespace vkb {

GemmTile chooseGemmTile(const vulkan::DeviceInfo& info, int64_t m, int64_t n) {
    const GemmTile variants[] = {{64, 64, 16, 4, 4}, {32, 32, 16, 2, 2}, {16, 16, 16, 1, 1}};
    const uint32_t maxThreads = std::min(info.maxComputeWorkGroupInvocations, info.maxComputeWorkGroupSize[0]);
    for (const GemmTile& tile : variants) {
        const bool filled = m >= tile.bm && n >= tile.bn;
        const bool allowed = tile.threads() <= maxThreads && tile.sharedBytes() <= info.maxComputeSharedMemorySize;
        if (allowed && (filled || tile.bm == 16)) return tile;
    }
    return {16, 16, 8, 2, 2};  // 64 invocations, 1 KiB: within every Vulkan device's minimum limits
}

}  // namespace vkb

namespace {

struct GemmPush {
    uint32_t m, n, k;
    uint32_t aOffset, bOffset, biasOffset;
    uint32_t hasBias, biasStride;
    uint32_t aRowStride, aColStride, bRowStride, bColStride;
    uint32_t batchShape[3];
    uint32_t aBatchStride[3];
    uint32_t bBatchStride[3];
};

constexpr std::size_t kBatchRank = 3;

vkb::StridedLayout<2> batchLayout(const Tensor& a, const Tensor& b) {
    const auto batchDims = static_cast<std::ptrdiff_t>(a.dim() - 2);
    const Shape shape(a.shape().begin(), a.shape().begin() + batchDims);
    const Strides sa(a.strides().begin(), a.strides().begin() + batchDims);
    const Strides sb(b.strides().begin(), b.strides().begin() + batchDims);
    return vkb::coalesce<2>(shape, {&sa, &sb});
}

}  // namespace

Tensor VulkanBackend::matmul(const Tensor& aIn, const Tensor& bIn, const Tensor& bias) {
    RAVEN_ASSERT(aIn.dim() >= 2 && aIn.dim() == bIn.dim(), "VulkanBackend::matmul: operand ranks");
    const int64_t m = aIn.size(-2), k = aIn.size(-1), n = bIn.size(-1);
    RAVEN_ASSERT(bIn.size(-2) == k, "VulkanBackend::matmul: inner sizes differ");
    Shape outShape(aIn.shape().begin(), aIn.shape().end() - 2);
    RAVEN_ASSERT(outShape == Shape(bIn.shape().begin(), bIn.shape().end() - 2), "VulkanBackend::matmul: batch sizes");
    const int64_t batch = numelOf(outShape);
    outShape.insert(outShape.end(), {m, n});
    Tensor out = empty(outShape);
    if (out.numel() == 0) return out;

    Tensor a = aIn, b = bIn;
    auto layout = batchLayout(a, b);
    if (layout.shape.size() > kBatchRank) {
        a = a.isContiguous() ? a : contiguousCopy(a);
        b = b.isContiguous() ? b : contiguousCopy(b);
        layout = batchLayout(a, b);
    }

    GemmPush push{};
    push.m = vkb::narrowToU32(m);
    push.n = vkb::narrowToU32(n);
    push.k = vkb::narrowToU32(k);
    push.aOffset = vkb::narrowToU32(a.offset());
    push.bOffset = vkb::narrowToU32(b.offset());
    push.aRowStride = vkb::narrowToU32(a.strides()[a.strides().size() - 2]);
    push.aColStride = vkb::narrowToU32(a.strides().back());
    push.bRowStride = vkb::narrowToU32(b.strides()[b.strides().size() - 2]);
    push.bColStride = vkb::narrowToU32(b.strides().back());
    const std::size_t pad = kBatchRank - layout.shape.size();
    for (std::size_t d = 0; d < kBatchRank; ++d) {
        const bool real = d >= pad;
        push.batchShape[d] = real ? vkb::narrowToU32(layout.shape[d - pad]) : 1;
        push.aBatchStride[d] = real ? vkb::narrowToU32(layout.strides[0][d - pad]) : 0;
        push.bBatchStride[d] = real ? vkb::narrowToU32(layout.strides[1][d - pad]) : 0;
    }
    if (bias.defined()) {
        push.hasBias = 1;
        push.biasOffset = vkb::narrowToU32(bias.offset());
        push.biasStride = vkb::narrowToU32(bias.strides()[0]);
    }

    const vkb::GemmTile tile = vkb::chooseGemmTile(device().info(), m, n);
    // Stage loads so that neighbouring invocations read neighbouring addresses of transposed views too.
    const uint32_t aRowsFast = (push.aColStride != 1 && push.aRowStride == 1) ? 1 : 0;
    const uint32_t bKFast = (push.bColStride != 1 && push.bRowStride == 1) ? 1 : 0;
    const vulkan::Pipeline& gemm =
        pipeline({"gemm_tiled",
                  4,
                  sizeof(GemmPush),
                  {tile.bm, tile.bn, tile.bk, tile.tm, tile.tn, tile.threads(), aRowsFast, bKFast}});
    const vulkan::Groups groups{vkb::narrowToU32((n + tile.bn - 1) / tile.bn),
                                vkb::narrowToU32((m + tile.bm - 1) / tile.bm), vkb::narrowToU32(batch)};
    const double mnk =
        static_cast<double>(batch) * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
    recorder().describeNext("matmul", 2.0 * mnk,
                            4.0 * static_cast<double>(batch) * static_cast<double>(m * k + k * n + m * n));
    recorder().dispatch(gemm,
                        {{rangeOf(a), Access::Read},
                         {rangeOf(b), Access::Read},
                         {rangeOf(bias.defined() ? bias : a), Access::Read},
                         {rangeOf(out), Access::Write}},
                        push, groups);
    return out;
}

}  // namespace raven
