#pragma once
// What every layer op's host side shares: absent operands, size checks, and the workgroup and tile
// sizes chosen from the device's limits (never a subgroup of 32 or 48 KiB of shared memory assumed).
#include "tensor/LayerShapes.h"
#include "vulkan/Memory.h"
#include "vulkan/Recorder.h"

#include <cstdint>
#include <string>

namespace raven::vulkan {
class Device;
}

namespace raven::vulkan::layers {

// An optional operand (bias, weight, a gradient not wanted) is a default-constructed BufferRange.
inline bool present(const BufferRange& range) { return range.buffer != VK_NULL_HANDLE && range.size > 0; }

// A shader's binding must be a real buffer even when the op ignores it (a flag in the push constants
// says so): the absent range is replaced by one that is bound anyway.
inline BufferRange orElse(const BufferRange& range, const BufferRange& fallback) {
    return present(range) ? range : fallback;
}

// Throws raven::Error unless `range` holds at least `floats` floats; `what` names the operand.
void requireFloats(const char* op, const char* what, const BufferRange& range, std::uint64_t floats);
// Throws raven::Error when a tensor of `elements` cannot be indexed by the shaders' 32-bit indices.
void requireIndexable(const char* op, const char* what, std::uint64_t elements);

// Workgroup size for one invocation per element: 256 or what the device allows, whole subgroups.
std::uint32_t linearWorkgroupSize(const Device& device);
// Workgroup size of the tree reductions (layer_reduce.glsl): a power of two, at most 256.
std::uint32_t reductionWorkgroupSize(const Device& device);

// Tiles of layer_gemm_tile.glsl: a wx x wy workgroup, each invocation rm x rn outputs, K in steps of tk.
struct GemmTiles {
    std::uint32_t wx = 8, wy = 8, rm = 1, rn = 1, tk = 16;
    constexpr std::uint32_t tileM() const { return wy * rm; }
    constexpr std::uint32_t tileN() const { return wx * rn; }
};
// Large tiles for large products, narrow ones when M or N is small, within the device's shared memory
// and invocation limits (LayerSupport.cpp says which).
GemmTiles chooseGemmTiles(const Device& device, std::uint64_t m, std::uint64_t n);
// Workgroups covering an M x N result with `batches` along z.
Groups gemmGroups(const GemmTiles& tiles, std::uint64_t m, std::uint64_t n, std::uint64_t batches);

std::uint32_t u32(std::int64_t value);  // a shape value as a push constant (validated shapes fit)

// The geometry every convolution shader's push constants start with: layer_conv2d.comp and
// verifiable_conv2d.comp read these 17 uints first, in this order.
struct ConvGeometryPush {
    std::uint32_t batch, inChannels, height, width, outChannels;
    std::uint32_t kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW;
    std::uint32_t groups, outH, outW, hasBias;
};
static_assert(sizeof(ConvGeometryPush) == 17 * 4, "17 uints, no padding");
ConvGeometryPush convGeometryPush(const Conv2dShape& s, bool hasBias);

}  // namespace raven::vulkan::layers
