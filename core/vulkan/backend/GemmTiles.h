#pragma once
// Internal to raven_vulkan_backend: the tile variants of compute-shaders/gemm_tiled.comp and the
// choice among them for a device and a shape.
#include <cstdint>

#include "vulkan/DeviceInfo.h"

namespace raven::vkb {

struct GemmTile {
    uint32_t bm, bn, bk;  // workgroup tile of C, and the K slice staged per step
    uint32_t tm, tn;      // per-invocation register block
    uint32_t threads() const { return (bm / tm) * (bn / tn); }
    uint32_t sharedBytes() const { return (bm + bn) * bk * 4; }
};

// The largest variant that the shape fills and the device allows (invocations per workgroup, shared
// memory): 64x64 with 4x4 register blocks for large products, 32x32 (2x2) and 16x16 (1x1) below, and
// 16x16 with 64 invocations for devices that allow little.
GemmTile chooseGemmTile(const vulkan::DeviceInfo& info, int64_t m, int64_t n);

}  // namespace raven::vkb
