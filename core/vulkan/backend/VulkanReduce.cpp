// Sum and maximum over axes: compute-shaders/reduce_cols.comp when the reduced axes are one run in the
// middle of a contiguous tensor with enough outputs (bias gradients), reduce_rows.comp otherwise (the
// kept axes first, the reduced ones last, copied to that layout on the device when needed). Rows longer
// than kChunk are reduced in passes over chunks of kChunk elements: the order depends on the shape only.
#include "vulkan/backend/VulkanBackend.h"

#include "base/Error.h"
#include "vulkan/backend/StridedLayout.h"

#include <algorithm>

namespace raven {

using vulkan::Access;
using vulkan::Recorder;

namespace {

constexpr int64_t kChunk = 4096;

struct RowsPush {
    uint32_t rowLength, chunk, chunksPerRow, xOffset, yOffset;
};

struct ColsPush {
    uint32_t outer, reduced, inner, xOffset, yOffset;
};

// out[row] = op over the contiguous rows [rows, rowLength] of src (from src.offset()).
void reduceRows(VulkanBackend& backend, uint32_t op, const Tensor& src, int64_t rows, int64_t rowLength,
                const Tensor& out) {
    const vulkan::Pipeline& pipeline = backend.pipeline({"reduce_rows", 2, sizeof(RowsPush), {op}});
    Tensor from = src;
    while (rowLength > kChunk) {
        const int64_t chunks = (rowLength + kChunk - 1) / kChunk;
        Tensor partial = backend.empty({rows * chunks});
        const RowsPush push{vkb::narrowToU32(rowLength), static_cast<uint32_t>(kChunk), vkb::narrowToU32(chunks),
                            vkb::narrowToU32(from.offset()), 0};
        backend.recorder().dispatch(pipeline,
                                    {{backend.rangeOf(from), Access::Read}, {backend.rangeOf(partial), Access::Write}},
                                    push, Recorder::groupsFor(static_cast<uint64_t>(rows * chunks), 1));
        from = partial;
        rowLength = chunks;
    }
    const RowsPush push{vkb::narrowToU32(rowLength), vkb::narrowToU32(std::max<int64_t>(rowLength, 1)), 1,
                        vkb::narrowToU32(from.offset()), vkb::narrowToU32(out.offset())};
    backend.recorder().dispatch(pipeline,
                                {{backend.rangeOf(from), Access::Read}, {backend.rangeOf(out), Access::Write}}, push,
                                Recorder::groupsFor(static_cast<uint64_t>(rows), 1));
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
    Tensor out = empty(outShape);
    if (outCount == 0) return out;
    const uint32_t opId = op == ReduceOp::Sum ? 0 : 1;

    // [A, R, C] with C > 1: one invocation per output, when there are enough outputs to fill a device.
    const bool run = axes.back() - axes.front() + 1 == static_cast<int>(axes.size());
    int64_t c = 1;
    for (int64_t d = axes.back() + 1; d < rank; ++d) c *= x.shape()[static_cast<size_t>(d)];
    if (x.isContiguous() && run && c > 1 && (outCount >= 256 || r <= 1024)) {
        const uint32_t local = elementwiseWorkgroupSize();
        const vulkan::Pipeline& cols = pipeline({"reduce_cols", 2, sizeof(ColsPush), {local, opId}});
        const ColsPush push{vkb::narrowToU32(outCount / c), vkb::narrowToU32(r), vkb::narrowToU32(c),
                            vkb::narrowToU32(x.offset()), 0};
        recorder().dispatch(cols, {{rangeOf(x), Access::Read}, {rangeOf(out), Access::Write}}, push,
                            Recorder::groupsFor(static_cast<uint64_t>(outCount), local));
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
