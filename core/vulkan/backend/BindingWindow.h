#pragma once
// Internal to raven_vulkan_backend: binding tensors larger than one storage-buffer binding.
//
// One binding may span at most Device::maxBindingBytes() (the device's maxStorageBufferRange: 128 MiB
// on lavapipe, 2-4 GiB on most GPUs), while a tensor's storage may be larger. Kernels then bind a
// *window* of the storage: a byte range that starts at an aligned offset and covers what one dispatch
// touches, with the element offsets of the push constants counted from the window's start. A storage
// that fits one binding is always bound whole, as if windows did not exist, so nothing changes (nor
// costs anything) where no tensor is that large.
//
// Each kernel cuts its work into dispatches whose operands' reach fits a window: splitToFit() below for
// strided views (elementwise ops, copies), and each kernel file for its own shape (reductions by
// chunks of rows or columns, softmax and cross-entropy by rows, GEMM by tiles of rows, columns and K,
// optimizer updates by ranges). A cut never changes which inputs an output is computed from, nor the
// order of any accumulation (a sum cut along its reduced axis continues from the partial result stored
// by the previous dispatch), so results are bit-identical to those of one dispatch.
//
//   const vkb::BindingWindows windows(device);
//   if (windows.fitsWhole(rangeOf(x))) { /* one dispatch as usual */ }
//   const auto w = windows.over(rangeOf(x), firstElement, count);   // w.range binds, w.start is subtracted
#include "vulkan/Device.h"
#include "vulkan/Memory.h"
#include "vulkan/backend/StridedLayout.h"

#include "base/Error.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace raven::vkb {

struct BindingWindow {
    vulkan::BufferRange range;  // what to bind
    int64_t start = 0;          // the storage element that range begins with
};

class BindingWindows {
public:
    explicit BindingWindows(const vulkan::Device& device)
        : limit_(device.maxBindingBytes()), alignment_(device.bindingAlignment()) {}

    // Whether a tensor storage (its whole range) is bound as one binding.
    bool fitsWhole(const vulkan::BufferRange& storage) const noexcept { return storage.size <= limit_; }
    // Elements that fit one window wherever in the storage they start (the window starts up to
    // alignment - 4 bytes before them).
    int64_t capacity() const noexcept { return static_cast<int64_t>((limit_ - alignment_ + sizeof(float)) / 4); }

    // The binding for elements [first, first + count) of a tensor storage: the whole storage when it fits
    // one binding, else the aligned window around those elements (count <= capacity()).
    BindingWindow over(const vulkan::BufferRange& storage, int64_t first, int64_t count) const {
        if (fitsWhole(storage)) return {storage, 0};
        RAVEN_ASSERT(first >= 0 && count >= 1 && count <= capacity(), "a binding window larger than the device allows");
        const auto begin = static_cast<VkDeviceSize>(first) * sizeof(float);
        const VkDeviceSize aligned = begin - begin % alignment_;
        const VkDeviceSize end = std::min(storage.size, static_cast<VkDeviceSize>(first + count) * sizeof(float));
        RAVEN_ASSERT(end > aligned, "a binding window outside its storage");
        return {{storage.buffer, storage.offset + aligned, end - aligned},
                static_cast<int64_t>(aligned / sizeof(float))};
    }

private:
    VkDeviceSize limit_;
    VkDeviceSize alignment_;
};

// Elements from the first to the last one a strided block reaches in operand k (strides are >= 0).
template <std::size_t N>
int64_t reachOf(const StridedBlock<N>& block, std::size_t k) {
    int64_t reach = 1;
    for (uint32_t d = 0; d < block.rank; ++d)
        reach += (static_cast<int64_t>(block.shape[d]) - 1) * static_cast<int64_t>(block.strides[k][d]);
    return reach;
}

// Whether operand k of a block is dense row-major (its elements are consecutive in the block's order).
template <std::size_t N>
bool isDense(const StridedBlock<N>& block, std::size_t k) {
    int64_t expected = 1;
    for (uint32_t d = block.rank; d-- > 0;) {
        if (block.shape[d] != 1 && static_cast<int64_t>(block.strides[k][d]) != expected) return false;
        expected *= block.shape[d];
    }
    return true;
}

// Whether the elementwise kernels may take four elements per invocation as vec4 (their VEC4 path): the
// block is one run of consecutive elements in every operand, each starting on a multiple of 4 floats
// from the start of its bound window (`offsets`, in elements).
template <std::size_t N>
bool isVectorRun(const StridedBlock<N>& block, const std::array<int64_t, N>& offsets) {
    if (block.rank != 1) return false;
    for (std::size_t k = 0; k < N; ++k)
        if (block.strides[k][0] != 1 || offsets[k] % 4 != 0) return false;
    return true;
}

// Calls fn(const StridedBlock<N>&) for the tiles of `block`, in order, such that each operand k with
// windowed[k] reaches at most `capacity` elements in each tile. The tile starts as the whole block and is
// halved along the dimension that contributes most to the reach of the operand that reaches furthest,
// until every operand fits: a transposed copy is cut into square-ish tiles, a dense one into runs of
// rows. Without windowed operands, fn(block) once.
template <std::size_t N, class Fn>
void splitToFit(const StridedBlock<N>& block, const std::array<bool, N>& windowed, int64_t capacity, Fn&& fn) {
    const uint32_t rank = block.rank;
    std::array<int64_t, kMaxRank> tile{};
    for (uint32_t d = 0; d < rank; ++d) tile[d] = block.shape[d];
    const auto reach = [&](std::size_t k) {
        int64_t r = 1;
        for (uint32_t d = 0; d < rank; ++d) r += (tile[d] - 1) * static_cast<int64_t>(block.strides[k][d]);
        return r;
    };
    while (true) {
        std::size_t worst = N;
        int64_t worstReach = capacity;
        for (std::size_t k = 0; k < N; ++k) {
            if (!windowed[k]) continue;
            const int64_t r = reach(k);
            if (r > worstReach) {
                worst = k;
                worstReach = r;
            }
        }
        if (worst == N) break;
        uint32_t widest = 0;
        int64_t widestReach = -1;
        for (uint32_t d = 0; d < rank; ++d) {
            const int64_t r = (tile[d] - 1) * static_cast<int64_t>(block.strides[worst][d]);
            if (r > widestReach) {
                widest = d;
                widestReach = r;
            }
        }
        RAVEN_ASSERT(widestReach > 0, "a single element does not fit a binding window");
        tile[widest] = (tile[widest] + 1) / 2;
    }
    if (rank == 0 || std::equal(tile.begin(), tile.begin() + rank, block.shape.begin())) {
        fn(block);
        return;
    }
    // Every tile, the last dimension fastest.
    std::array<int64_t, kMaxRank> start{};
    while (true) {
        StridedBlock<N> part = block;
        int64_t count = 1;
        for (uint32_t d = 0; d < rank; ++d) {
            part.shape[d] = static_cast<uint32_t>(std::min(tile[d], static_cast<int64_t>(block.shape[d]) - start[d]));
            count *= part.shape[d];
            for (std::size_t k = 0; k < N; ++k) part.offsets[k] += start[d] * static_cast<int64_t>(block.strides[k][d]);
        }
        part.count = static_cast<uint32_t>(count);
        fn(part);
        uint32_t d = rank;
        while (d-- > 0) {
            start[d] += tile[d];
            if (start[d] < static_cast<int64_t>(block.shape[d])) break;
            start[d] = 0;
        }
        if (d == UINT32_MAX) return;  // wrapped around every dimension: done
    }
}

}  // namespace raven::vkb
