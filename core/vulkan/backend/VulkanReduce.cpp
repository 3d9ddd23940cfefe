// Sum and maximum over axes: compute-shaders/reduce_cols.comp when the reduced axes are one run in the
// middle of a contiguous tensor with enough outputs (bias gradients), reduce_rows.comp otherwise (the
// kept axes first, the reduced ones last, copied to that layout on the device when needed). Rows longer
// than kChunk are reduced in passes over chunks of kChunk elements: the order depends on the shape only.
// Operands larger than one binding are bound in windows (BindingWindow.h): reduce_rows by runs of whole
// workgroups, reduce_cols by blocks of [A, R, C] whose parts along R continue each other's sums.
#include "vulkan/backend/VulkanBackend.h"

#include "base/Error.h"
#include "vulkan/backend/BindingWindow.h"
#include "vulkan/backend/StridedLayout.h"

#include <algorithm>

namespace raven {

using vulkan::Access;
using vulkan::Recorder;

namespace {

constexpr int64_t kChunk = 4096;

struct RowsPush {
    uint32_t rowLength, chunk, chunksPerRow, xOffset, yOffset, groupBase, rowBase, firstBegin;
};

struct ColsPush {
    uint32_t outer, reduced, inner, xOffset, yOffset, xOuterStride, xReducedStride, yOuterStride, accumulate;
};

// One pass of reduce_rows: y[g] for the groups * chunksPerRow workgroups over contiguous rows of `from`.
void rowsPass(VulkanBackend& backend, const vulkan::Pipeline& pipeline, const Tensor& from, int64_t rowLength,
              int64_t chunk, int64_t chunksPerRow, int64_t groups, const Tensor& y) {
    const vkb::BindingWindows windows(backend.device());
    const vulkan::BufferRange &xStorage = backend.rangeOf(from), &yStorage = backend.rangeOf(y);
    const bool whole = windows.fitsWhole(xStorage) && windows.fitsWhole(yStorage);
    // Consecutive workgroups read consecutive elements, at most min(chunk, rowLength) each.
    const int64_t perGroup = std::max<int64_t>(1, std::min(chunk, rowLength));
    const int64_t groupsPerDispatch = whole ? groups : std::max<int64_t>(1, windows.capacity() / perGroup);
    for (int64_t g0 = 0; g0 < groups; g0 += groupsPerDispatch) {
        const int64_t g1 = std::min(groups, g0 + groupsPerDispatch);
        const int64_t rowBase = g0 / chunksPerRow, firstBegin = (g0 % chunksPerRow) * chunk;
        const int64_t lastRow = (g1 - 1) / chunksPerRow;
        const int64_t lastEnd = std::min(rowLength, ((g1 - 1) % chunksPerRow + 1) * chunk);
        const int64_t xFirst = from.offset() + rowBase * rowLength + firstBegin;
        const int64_t xReach = (lastRow - rowBase) * rowLength + lastEnd - firstBegin;
        const int64_t yFirst = y.offset() + g0;
        const vkb::BindingWindow xw = windows.over(xStorage, xFirst, std::max<int64_t>(xReach, 1));
        const vkb::BindingWindow yw = windows.over(yStorage, yFirst, g1 - g0);
        const RowsPush push{vkb::narrowToU32(rowLength),         vkb::narrowToU32(chunk),
                            vkb::narrowToU32(chunksPerRow),      vkb::narrowToU32(xFirst - xw.start),
                            vkb::narrowToU32(yFirst - yw.start), vkb::narrowToU32(g0),
                            vkb::narrowToU32(rowBase),           vkb::narrowToU32(firstBegin)};
        backend.recorder().dispatch(pipeline, {{xw.range, Access::Read}, {yw.range, Access::Write}}, push,
                                    Recorder::groupsFor(static_cast<uint64_t>(g1 - g0), 1));
    }
}

// out[row] = op over the contiguous rows [rows, rowLength] of src (from src.offset()).
void reduceRows(VulkanBackend& backend, uint32_t op, const Tensor& src, int64_t rows, int64_t rowLength,
                const Tensor& out) {
    const vulkan::Pipeline& pipeline = backend.pipeline({"reduce_rows", 2, sizeof(RowsPush), {op}});
    Tensor from = src;
    while (rowLength > kChunk) {
        const int64_t chunks = (rowLength + kChunk - 1) / kChunk;
        Tensor partial = backend.empty({rows * chunks});
        rowsPass(backend, pipeline, from, rowLength, kChunk, chunks, rows * chunks, partial);
        from = partial;
        rowLength = chunks;
    }
    rowsPass(backend, pipeline, from, rowLength, std::max<int64_t>(rowLength, 1), 1, rows, out);
}

// y[a, c] = op over r of the contiguous [A, R, C] block x (from x.offset()); y is contiguous [A, C].
void reduceCols(VulkanBackend& backend, uint32_t op, const Tensor& x, int64_t outer, int64_t reduced, int64_t inner,
                const Tensor& y) {
    const uint32_t local = backend.elementwiseWorkgroupSize();
    const vulkan::Pipeline& cols = backend.pipeline({"reduce_cols", 2, sizeof(ColsPush), {local, op}});
    const vkb::BindingWindows windows(backend.device());
    const vulkan::BufferRange &xStorage = backend.rangeOf(x), &yStorage = backend.rangeOf(y);
    // An empty reduced axis still writes every output (0 or -inf): one part along r, of length 0.
    const int64_t rSpan = std::max<int64_t>(reduced, 1);
    int64_t ac = outer, rc = rSpan, cc = inner;
    if (!windows.fitsWhole(xStorage) || !windows.fitsWhole(yStorage)) {
        const int64_t cap = windows.capacity();
        cc = std::min(inner, cap);
        rc = std::min(rSpan, (cap - cc) / inner + 1);
        const int64_t xInner = (rc - 1) * inner + cc;
        ac = std::min({outer, (cap - xInner) / (rSpan * inner) + 1, (cap - cc) / inner + 1});
    }
    for (int64_t a0 = 0; a0 < outer; a0 += ac)
        for (int64_t c0 = 0; c0 < inner; c0 += cc)
            for (int64_t r0 = 0; r0 < rSpan; r0 += rc) {
                const int64_t na = std::min(ac, outer - a0), nc = std::min(cc, inner - c0),
                              nr = std::min(rc, reduced - r0);  // 0 when the axis is empty
                const int64_t xFirst = x.offset() + (a0 * reduced + r0) * inner + c0;
                const int64_t yFirst = y.offset() + a0 * inner + c0;
                const vkb::BindingWindow xw = windows.over(
                    xStorage, xFirst, (na - 1) * reduced * inner + std::max<int64_t>(nr - 1, 0) * inner + nc);
                const vkb::BindingWindow yw = windows.over(yStorage, yFirst, (na - 1) * inner + nc);
                const ColsPush push{vkb::narrowToU32(na),
                                    vkb::narrowToU32(nr),
                                    vkb::narrowToU32(nc),
                                    vkb::narrowToU32(xFirst - xw.start),
                                    vkb::narrowToU32(yFirst - yw.start),
                                    vkb::narrowToU32(reduced * inner),
                                    vkb::narrowToU32(inner),
                                    vkb::narrowToU32(inner),
                                    r0 > 0 ? 1u : 0u};
                backend.recorder().dispatch(
                    cols, {{xw.range, Access::Read}, {yw.range, r0 > 0 ? Access::ReadWrite : Access::Write}}, push,
                    Recorder::groupsFor(static_cast<uint64_t>(na * nc), local));
            }
}

}  // namespace

Tensor VulkanBackend::reduce(ReduceOp op, const Tensor& x, const std::vector<int>& axes, bool keepDim) {
    RAVEN_ASSERT(!axes.empty(), "VulkanBackend::reduce needs at least one axis");
    const int64_t rank = x.dim();
    std::vector<bool> reduced(static_cast<size_t>(rank), false);
    for (int a : axes) reduced[static_cast<size_t>(a)] = true;
    Shape outShape;
    int64_t outCount = 1, r = 1;
    for (int64_t d = 0; d < rank; ++d) {
        const int64_t size = x.shape()[static_cast<size_t>(d)];
        if (reduced[static_cast<size_t>(d)]) {
            r *= size;
            if (keepDim) outShape.push_back(1);
        } else {
            outCount *= size;
            outShape.push_back(size);
        }
    }
    if (kernelMode_ == KernelMode::Verifiable) return verifiableReduce(op, x, axes, outShape);
    Tensor out = empty(outShape);
    if (outCount == 0) return out;
    const uint32_t opId = op == ReduceOp::Sum ? 0 : 1;

    // [A, R, C] with C > 1: one invocation per output, when there are enough outputs to fill a device.
    const bool run = axes.back() - axes.front() + 1 == static_cast<int>(axes.size());
    int64_t c = 1;
    for (int64_t d = axes.back() + 1; d < rank; ++d) c *= x.shape()[static_cast<size_t>(d)];
    if (x.isContiguous() && run && c > 1 && (outCount >= 256 || r <= 1024)) {
        reduceCols(*this, opId, x, outCount / c, r, c, out);
        return out;
    }

    std::vector<int64_t> order;
    for (int64_t d = 0; d < rank; ++d)
        if (!reduced[static_cast<size_t>(d)]) order.push_back(d);
    for (int a : axes) order.push_back(a);
    Tensor rows = x.permute(order);
    if (!rows.isContiguous()) rows = contiguousCopy(rows);
    reduceRows(*this, opId, rows, outCount, r, out);
    return out;
}

}  // namespace raven
