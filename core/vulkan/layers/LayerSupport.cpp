#include "vulkan/layers/LayerSupport.h"

#include "base/Error.h"
#include "vulkan/Device.h"

#include <algorithm>

namespace raven::vulkan::layers {

void requireFloats(const char* op, const char* what, const BufferRange& range, std::uint64_t floats) {
    RAVEN_CHECK(present(range), std::string(op) + ": " + what + " is not bound",
                "pass a buffer range for every operand the op reads or writes");
    RAVEN_CHECK(range.size >= floats * sizeof(float),
                std::string(op) + ": " + what + " holds " + std::to_string(range.size / sizeof(float)) +
                    " floats, the shape needs " + std::to_string(floats),
                "allocate the operand with the size its shape states");
}

void requireIndexable(const char* op, const char* what, std::uint64_t elements) {
    RAVEN_CHECK(elements <= UINT32_MAX,
                std::string(op) + ": " + what + " has " + std::to_string(elements) +
                    " elements, more than the 2^32 the shaders index",
                "split the batch into smaller parts");
}

std::uint32_t linearWorkgroupSize(const Device& device) {
    const DeviceInfo& info = device.info();
    std::uint32_t size = std::min({256u, info.maxComputeWorkGroupSize[0], info.maxComputeWorkGroupInvocations});
    if (info.subgroupSize > 0 && size > info.subgroupSize) size -= size % info.subgroupSize;
    return std::max(size, 1u);
}

std::uint32_t reductionWorkgroupSize(const Device& device) {
    const DeviceInfo& info = device.info();
    const std::uint32_t limit = std::min({256u, info.maxComputeWorkGroupSize[0], info.maxComputeWorkGroupInvocations});
    std::uint32_t size = 1;
    while (size * 2 <= limit) size *= 2;
    return size;
}

namespace {

bool fits(const Device& device, const GemmTiles& t) {
    const DeviceInfo& info = device.info();
    const std::uint64_t shared = 4ull * t.tk * (t.tileM() + t.tileN());
    return t.wx * t.wy <= info.maxComputeWorkGroupInvocations && t.wx <= info.maxComputeWorkGroupSize[0] &&
           t.wy <= info.maxComputeWorkGroupSize[1] && shared <= info.maxComputeSharedMemorySize;
}

}  // namespace

GemmTiles chooseGemmTiles(const Device& device, std::uint64_t m, std::uint64_t n) {
    // 256 invocations of 4x4 outputs (the vec4 layout of layer_gemm_tile.glsl) keep a GPU busy on large
    // products: 64x64 tiles, or 32x128 / 16x256 (and their transposes) when one side is small, so
    // that little of a tile is wasted on padding (a convolution's channels against batch x positions).
    // When both sides are small, fewer outputs per invocation. Every device offers 128 invocations
    // and 16 KiB of shared memory, so 8x8 invocations of one output always fit.
    GemmTiles tiles{16, 16, 4, 4, 16};
    const bool smallM = m <= 32, smallN = n <= 32;
    if (smallM && !smallN) {
        tiles = m <= 16 ? GemmTiles{64, 4, 4, 4, 8} : GemmTiles{32, 8, 4, 4, 16};
    } else if (smallN && !smallM) {
        tiles = n <= 16 ? GemmTiles{4, 64, 4, 4, 8} : GemmTiles{8, 32, 4, 4, 16};
    } else if (smallM && smallN) {
        tiles.rm = m <= 16 ? 1 : 2;
        tiles.rn = n <= 16 ? 1 : 2;
    }
    // layer_gemm_tile.glsl stages its tiles as vec4: both sides multiples of 4.
    static_assert(GemmTiles{8, 8, 1, 1, 16}.tileM() % 4 == 0 && GemmTiles{8, 8, 1, 1, 16}.tileN() % 4 == 0);
    if (fits(device, tiles)) return tiles;
    return GemmTiles{8, 8, 1, 1, 16};
}

Groups gemmGroups(const GemmTiles& tiles, std::uint64_t m, std::uint64_t n, std::uint64_t batches) {
    const std::uint64_t gx = (n + tiles.tileN() - 1) / tiles.tileN();
    const std::uint64_t gy = (m + tiles.tileM() - 1) / tiles.tileM();
    RAVEN_ASSERT(gx <= UINT32_MAX && gy <= UINT32_MAX && batches <= UINT32_MAX, "GEMM grid beyond 2^32 workgroups");
    return {static_cast<std::uint32_t>(gx), static_cast<std::uint32_t>(gy), static_cast<std::uint32_t>(batches)};
}

std::uint32_t u32(std::int64_t value) {
    RAVEN_ASSERT(value >= 0 && value <= static_cast<std::int64_t>(UINT32_MAX), "shape value outside 32 bits");
    return static_cast<std::uint32_t>(value);
}

ConvGeometryPush convGeometryPush(const Conv2dShape& s, bool hasBias) {
    return {u32(s.batch),     u32(s.inChannels), u32(s.height),  u32(s.width),  u32(s.outChannels), u32(s.kernelH),
            u32(s.kernelW),   u32(s.strideH),    u32(s.strideW), u32(s.padH),   u32(s.padW),        u32(s.dilationH),
            u32(s.dilationW), u32(s.groups),     u32(s.outH()),  u32(s.outW()), hasBias ? 1u : 0u};
}

}  // namespace raven::vulkan::layers
