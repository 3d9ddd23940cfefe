#pragma once
// Internal to raven_vulkan_backend: the variants of compute-shaders/gemm_tiled.comp and the choice
// among them for a device and a shape (docs/vulkan.md, "GEMM variants").
//
// A variant is a tile (workgroup tile of C, K slice staged per step, register block per invocation;
// all specialization constants), whether vec4 loads may be used where the operands are aligned, and a
// split-k factor. The tile is chosen per device and shape, and never changes a result (every element
// adds its products in ascending k whatever the tile); split-k is chosen from the shape alone, so
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

struct GemmTile {
    uint32_t bm, bn, bk;  // workgroup tile of C, and the K slice staged per step
    uint32_t tm, tn;      // per-invocation register block
    uint32_t threads() const { return (bm / tm) * (bn / tn); }
    uint32_t sharedBytes() const { return (bm + bn) * bk * 4; }
    bool operator==(const GemmTile&) const = default;
};

// The tiles, largest first: large 128x128 (8x8 per invocation, K by 8), medium 64x64 (4x4), small 32x32
// (2x2) and tiny 16x16 (1x1), all of 256 invocations and 2-8 KiB of shared memory; then minimal 16x16
// (2x2, 64 invocations, 1 KiB), within the minimum limits of every Vulkan device.
std::span<const GemmTile> gemmTiles();
inline constexpr GemmTile kLargeTile{128, 128, 8, 8, 8};
inline constexpr GemmTile kMinimalTile{16, 16, 8, 2, 2};

// The tile for an M x N product with `groupsZ` workgroups along z (batch times split-k slices): the
// largest the device allows (invocations, shared memory, whole subgroups) that the shape fills; the
// large tile only on GPUs and only when it still gives kLargeTileMinGroups workgroups (a device has no
// way to say how many it runs at once: tune on real hardware).
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
// "128x128x8/8x8 vec4 split-k 4x1600": for logs and test names.
std::string describe(const GemmVariant& variant);

// C = A B (+ bias) with the given variant (shapes as for Backend::matmul). VulkanBackend::matmul calls
// this with chooseGemmVariant(); tests force each variant through it. Operands larger than one
// binding are cut into tiles of rows, columns and K (BindingWindow.h) with the same results.
Tensor matmulWith(VulkanBackend& backend, const Tensor& a, const Tensor& b, const Tensor& bias,
                  const GemmVariant& variant);

}  // namespace raven::vkb
