#pragma once
// Internal to raven_cpu: walking N operands of one logical shape with their own strides.
//
// The shape is first coalesced (size-1 dimensions dropped, neighbours merged where every operand is
// dense across them), so contiguous tensors become one long row. A range of linear element indices
// [begin, end) in row-major order is then visited as segments: runs along the innermost dimension,
// each handed to a callback with the operands' offsets and inner strides. The callback holds the tight
// loop, so the per-element cost is that loop alone.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "tensor/Shape.h"

namespace raven::cpu {

template <size_t N>
struct StridedLayout {
    std::vector<int64_t> shape;
    std::array<std::vector<int64_t>, N> strides;
};

template <size_t N>
StridedLayout<N> coalesce(const Shape& shape, const std::array<const Strides*, N>& strides) {
    StridedLayout<N> out;
    for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 1) continue;
        bool merge = !out.shape.empty();
        for (size_t k = 0; merge && k < N; ++k) {
            merge = out.strides[k].back() == (*strides[k])[d] * shape[d];
        }
        if (merge) {
            out.shape.back() *= shape[d];
            for (size_t k = 0; k < N; ++k) out.strides[k].back() = (*strides[k])[d];
        } else {
            out.shape.push_back(shape[d]);
            for (size_t k = 0; k < N; ++k) out.strides[k].push_back((*strides[k])[d]);
        }
    }
    return out;
}

// Calls seg(offsets, innerStrides, length) for the elements [begin, end) of the layout, where
// offsets[k] = base[k] + the element offset of operand k at the segment start.
template <size_t N, class Segment>
void forEachSegment(const StridedLayout<N>& layout, const std::array<int64_t, N>& base, int64_t begin, int64_t end,
                    Segment&& seg) {
    const size_t rank = layout.shape.size();
    if (rank == 0) {
        if (begin < end) seg(base, std::array<int64_t, N>{}, int64_t{1});
        return;
    }
    std::array<int64_t, N> inner;
    for (size_t k = 0; k < N; ++k) inner[k] = layout.strides[k][rank - 1];
    const int64_t innerSize = layout.shape[rank - 1];
    std::vector<int64_t> index(rank);
    int64_t rest = begin;
    for (size_t d = rank; d-- > 0;) {
        index[d] = rest % layout.shape[d];
        rest /= layout.shape[d];
    }
    while (begin < end) {
        std::array<int64_t, N> offsets = base;
        for (size_t d = 0; d < rank; ++d) {
            for (size_t k = 0; k < N; ++k) offsets[k] += index[d] * layout.strides[k][d];
        }
        const int64_t length = std::min(innerSize - index[rank - 1], end - begin);
        seg(offsets, inner, length);
        begin += length;
        index[rank - 1] += length;
        for (size_t d = rank - 1; d > 0 && index[d] == layout.shape[d]; --d) {
            index[d] = 0;
            ++index[d - 1];
        }
    }
}

}  // namespace raven::cpu
