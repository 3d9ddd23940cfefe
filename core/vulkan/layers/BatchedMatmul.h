#pragma once
// A batch of small strided matrix products on a Vulkan device (compute-shaders/layer_matmul.comp),
// the building block of attention:
//
//   c[b][m][n] = alpha * sum over k of a[b*aBatch + m*aRow + k*aCol] * b[b*bBatch + k*bRow + n*bCol]
//
// Strides are in floats, so a transposed operand is a swap of its strides; c is contiguous
// [batches, M, N]. Tiled in shared memory (tile sizes per device); each output sums K in order.
#include "vulkan/Memory.h"

#include <cstdint>

namespace raven::vulkan {
class Device;
class Recorder;
}  // namespace raven::vulkan

namespace raven::vulkan::layers {

struct MatmulGeometry {
    std::uint64_t batches = 1, m = 1, n = 1, k = 1;
    std::uint64_t aBatch = 0, aRow = 0, aCol = 0;  // strides of A(b, m, k)
    std::uint64_t bBatch = 0, bRow = 0, bCol = 0;  // strides of B(b, k, n)
    float alpha = 1.0f;
};

void batchedMatmul(Device& device, Recorder& recorder, const MatmulGeometry& geometry, const BufferRange& a,
                   const BufferRange& b, const BufferRange& c);

}  // namespace raven::vulkan::layers
