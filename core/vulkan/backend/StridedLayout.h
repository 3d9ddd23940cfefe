#pragma once
// Internal to raven_vulkan_backend: strided views prepared for the kernels' push constants.
//
// Kernels take at most kMaxRank dimensions. coalesce() drops size-1 dimensions and merges neighbours
// that are contiguous together in every operand (a dense tensor becomes one dimension, a broadcast
// row [B, N] with strides {0, 1} stays two), which keeps almost every view within the limit;
// forEachBlock() cuts what remains into blocks of the last kMaxRank dimensions, one dispatch each.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "base/Error.h"
#include "tensor/Shape.h"

namespace raven::vkb {

inline constexpr std::size_t kMaxRank = 6;

template <std::size_t N>
struct StridedLayout {
    std::vector<int64_t> shape;                   // outermost first; no size-1 dimensions
    std::array<std::vector<int64_t>, N> strides;  // per operand, in elements
};

template <std::size_t N>
StridedLayout<N> coalesce(const Shape& shape, const std::array<const Strides*, N>& strides) {
    StridedLayout<N> out;
    for (std::size_t d = shape.size(); d-- > 0;) {  // innermost first, reversed at the end
        if (shape[d] == 1) continue;
        bool merge = !out.shape.empty();
        for (std::size_t k = 0; merge && k < N; ++k)
            merge = (*strides[k])[d] == out.strides[k].back() * out.shape.back();
        if (merge) {
            out.shape.back() *= shape[d];  // the merged dimension keeps the inner stride
        } else {
            out.shape.push_back(shape[d]);
            for (std::size_t k = 0; k < N; ++k) out.strides[k].push_back((*strides[k])[d]);
        }
    }
    std::reverse(out.shape.begin(), out.shape.end());
    for (auto& s : out.strides) std::reverse(s.begin(), s.end());
    return out;
}

// A kernel's view of one block: the last (at most kMaxRank) dimensions and each operand's offset.
template <std::size_t N>
struct StridedBlock {
    uint32_t rank = 0;
    uint32_t count = 1;  // elements in the block
    std::array<uint32_t, kMaxRank> shape{};
    std::array<std::array<uint32_t, kMaxRank>, N> strides{};
    std::array<int64_t, N> offsets{};  // added to each operand's own offset
};

inline uint32_t narrowToU32(int64_t v) {
    RAVEN_ASSERT(v >= 0 && v <= static_cast<int64_t>(UINT32_MAX), "a size or offset does not fit 32 bits");
    return static_cast<uint32_t>(v);
}

// Calls fn(const StridedBlock<N>&) for each block of the leading dimensions beyond kMaxRank, in order.
template <std::size_t N, class Fn>
void forEachBlock(const StridedLayout<N>& layout, Fn fn) {
    const std::size_t rank = layout.shape.size();
    const std::size_t inner = std::min(rank, kMaxRank), lead = rank - inner;
    StridedBlock<N> block;
    block.rank = static_cast<uint32_t>(inner);
    int64_t count = 1;
    for (std::size_t i = 0; i < inner; ++i) {
        block.shape[i] = narrowToU32(layout.shape[lead + i]);
        count *= layout.shape[lead + i];
        for (std::size_t k = 0; k < N; ++k) block.strides[k][i] = narrowToU32(layout.strides[k][lead + i]);
    }
    block.count = narrowToU32(count);
    int64_t blocks = 1;
    for (std::size_t d = 0; d < lead; ++d) blocks *= layout.shape[d];
    for (int64_t b = 0; b < blocks; ++b) {
        int64_t rem = b;
        block.offsets.fill(0);
        for (std::size_t d = lead; d-- > 0;) {
            const int64_t index = rem % layout.shape[d];
            rem /= layout.shape[d];
            for (std::size_t k = 0; k < N; ++k) block.offsets[k] += index * layout.strides[k][d];
        }
        fn(block);
    }
}

}  // namespace raven::vkb
