#pragma once
// Internal to raven_vulkan_backend: the variants of compute-shaders/gemm_tiled.comp and the choice
// among them for a device and a shape (docs/vulkan.md, "GEMM variants").
//
// A variant is a tile (workgroup tile of C, K slice staged per step, register block per invocation,
// and the kernel that runs it; sizes are specialization constants), whether vec4 loads may be used
// where the operands are aligned, and a split-k factor. The tile is chosen per device and shape, and never changes a
// result (every element adds its products in ascending k whatever the tile); split-k is chosen from the shape alone, so
// every device sums the same slices in the same order.
//
//   const vkb::GemmVariant v = vkb::chooseGemmVariant(device.info(), m, n, k, batch);
//   Tensor c = vkb::matmulWith(backend, a, b, bias, v);   // what VulkanBackend::matmul does
#include <cstdint>
#include <span>
#include <string>

#include "tensor/Tensor.h"
#include "vulkan/DeviceInfo.h"

namespace raven {
class VulkanBackend;
}

namespace raven::vkb {

// The two shaders of a tile. Interleaved (gemm_tiled.comp): an invocation's block of C is spread over
// the tile with a stride, and it reads shared memory one float at a time; runs any tile. Blocked
// (gemm_blocked.comp): the block is made of 4x4 squares read from shared memory as vec4, with two
// stages of shared memory so that global loads overlap the arithmetic; for tiles whose register block
// is a multiple of 4 and whose slices divide evenly among the invocations. Both add every element's
// products in the same order: the kernel never changes a result.
enum class GemmKernel : uint8_t { Interleaved, Blocked };

struct GemmTile {
    uint32_t bm, bn, bk;  // workgroup tile of C, and the K slice staged per step
    uint32_t tm, tn;      // per-invocation register block
    GemmKernel kernel = GemmKernel::Interleaved;
    uint32_t threads() const { return (bm / tm) * (bn / tn); }
    uint32_t sharedBytes() const { return (kernel == GemmKernel::Blocked ? 2 : 1) * (bm + bn) * bk * 4; }
    bool operator==(const GemmTile&) const = default;
};

// Every tile, for tests and the benchmark's sweep: large 128x128 (8x8 per invocation, K by 8) blocked
// and interleaved, medium 64x64 (4x4, K by 16) blocked and interleaved, small 32x32 (2x2), tiny 16x16
// (1x1), all of 256 invocations and 2-16 KiB of shared memory; then minimal 16x16 (2x2, 64
// invocations, 1 KiB), within the minimum limits of every Vulkan device.
std::span<const GemmTile> gemmTiles();
inline constexpr GemmTile kLargeTile{128, 128, 8, 8, 8, GemmKernel::Blocked};
inline constexpr GemmTile kMediumTile{64, 64, 16, 4, 4, GemmKernel::Blocked};
inline constexpr GemmTile kMinimalTile{16, 16, 8, 2, 2};
// Whether the device can run the tile: invocations, shared memory, whole subgroups, and for the
// blocked kernel its own conditions (above).
bool gemmTileAllowed(const vulkan::DeviceInfo& info, const GemmTile& tile);

// The tile for an M x N product with `groupsZ` workgroups along z (batch times split-k slices): the
// largest the device allows (gemmTileAllowed) that the shape fills, with the blocked kernel for the
// large and medium tiles; on GPUs the large tile only when it still gives kLargeTileMinGroups
// workgroups (a device has no way to say how many it runs at once: tune on real hardware).
GemmTile chooseGemmTile(const vulkan::DeviceInfo& info, int64_t m, int64_t n, int64_t groupsZ = 1);
inline constexpr int64_t kLargeTileMinGroups = 256;

// Split-k for tall-K shapes: K at least kSplitKMinK and at least twice max(M, N), and fewer than
// kSplitKTargetGroups 64x64 tiles of C; then as many slices as bring the tiles to that target, each at
// least kSplitKMinSlice deep (a multiple of 64), at most kSplitKMaxSlices. From the shape alone.
struct SplitK {
    uint32_t splits = 1;
    int64_t kSplit = 0;  // K per slice; the last one may be shorter (splits == 1: K)
};
SplitK chooseSplitK(int64_t m, int64_t n, int64_t k, int64_t batch);
inline constexpr int64_t kSplitKMinK = 2048;
inline constexpr int64_t kSplitKTargetGroups = 1024;
inline constexpr int64_t kSplitKMinSlice = 512;
inline constexpr uint32_t kSplitKMaxSlices = 64;

struct GemmVariant {
    GemmTile tile = kMinimalTile;
    bool vectorLoads = true;  // vec4 loads where the operands are aligned (else one float per load)
    SplitK splitK;            // splits == 1: none
};

// What VulkanBackend::matmul uses: chooseGemmTile and chooseSplitK.
GemmVariant chooseGemmVariant(const vulkan::DeviceInfo& info, int64_t m, int64_t n, int64_t k, int64_t batch);
// "128x128x8/8x8 blocked vec4 split-k 4x1600": for logs and test names.
std::string describe(const GemmVariant& variant);

// C = A B (+ bias) with the given variant (shapes as for Backend::matmul). VulkanBackend::matmul calls
// this with chooseGemmVariant(); tests force each variant through it. Operands larger than one
// binding are cut into tiles of rows, columns and K (BindingWindow.h) with the same results.
Tensor matmulWith(VulkanBackend& backend, const Tensor& a, const Tensor& b, const Tensor& bias,
                  const GemmVariant& variant);

}  // namespace raven::vkb
