// The GEMM variants and the choice among them (GemmTiles.h). The thresholds are first guesses made
// without a GPU at hand; docs/vulkan.md lists what to tune on one.
#include "vulkan/backend/GemmTiles.h"

#include <algorithm>
#include <array>

namespace raven::vkb {

namespace {

constexpr GemmTile kLargeInterleaved{128, 128, 8, 8, 8};
constexpr GemmTile kMediumInterleaved{64, 64, 16, 4, 4};
constexpr GemmTile kSmall{32, 32, 16, 2, 2};
constexpr GemmTile kTiny{16, 16, 16, 1, 1};

constexpr std::array<GemmTile, 7> kTiles = {
    kLargeTile, kLargeInterleaved, kMediumTile, kMediumInterleaved, kSmall, kTiny, kMinimalTile,
};
// What chooseGemmTile considers, largest first: the blocked kernel wherever it runs (on lavapipe too it
// ran 3-5x faster than the interleaved one, docs/vulkan.md).
constexpr std::array<GemmTile, 5> kChoice = {kLargeTile, kMediumTile, kSmall, kTiny, kMinimalTile};

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

bool gemmTileAllowed(const vulkan::DeviceInfo& info, const GemmTile& tile) {
    const uint32_t maxThreads = std::min(info.maxComputeWorkGroupInvocations, info.maxComputeWorkGroupSize[0]);
    if (tile.threads() > maxThreads || tile.sharedBytes() > info.maxComputeSharedMemorySize) return false;
    if (tile.kernel == GemmKernel::Blocked) {
        // 4x4 squares, and whole vec4 units of each staged slice per invocation.
        if (tile.tm % 4 != 0 || tile.tn % 4 != 0) return false;
        if ((tile.bm * tile.bk / 4) % tile.threads() != 0 || (tile.bn * tile.bk / 4) % tile.threads() != 0)
            return false;
    }
    // Whole subgroups, so that no invocation of the last subgroup idles through every step.
    const uint32_t subgroup = info.subgroupSize;
    return subgroup == 0 || tile.threads() < subgroup || tile.threads() % subgroup == 0;
}

std::span<const GemmTile> gemmTiles() { return kTiles; }

GemmTile chooseGemmTile(const vulkan::DeviceInfo& info, int64_t m, int64_t n, int64_t groupsZ) {
    for (const GemmTile& tile : kChoice) {
        if (!gemmTileAllowed(info, tile)) continue;
        if (tile == kLargeTile && info.type != vulkan::DeviceType::Cpu) {
            // A GPU needs many workgroups at once; a CPU implementation runs a few at a time anyway.
            const int64_t groups = ceilDiv(m, tile.bm) * ceilDiv(n, tile.bn) * std::max<int64_t>(groupsZ, 1);
            if (groups < kLargeTileMinGroups) continue;
        }
        const bool filled = m >= tile.bm && n >= tile.bn;
        if (filled || tile.bm == 16) return tile;
    }
    return kMinimalTile;
}

SplitK chooseSplitK(int64_t m, int64_t n, int64_t k, int64_t batch) {
    const SplitK none{1, k};
    if (k < kSplitKMinK || k < 2 * std::max(m, n)) return none;
    const int64_t tiles = ceilDiv(m, 64) * ceilDiv(n, 64) * std::max<int64_t>(batch, 1);
    if (tiles >= kSplitKTargetGroups) return none;
    const int64_t wanted =
        std::min({ceilDiv(kSplitKTargetGroups, tiles), k / kSplitKMinSlice, static_cast<int64_t>(kSplitKMaxSlices)});
    if (wanted < 2) return none;
    const int64_t kSplit = ceilDiv(ceilDiv(k, wanted), 64) * 64;
    const int64_t splits = ceilDiv(k, kSplit);
    if (splits < 2) return none;
    return {static_cast<uint32_t>(splits), kSplit};
}

GemmVariant chooseGemmVariant(const vulkan::DeviceInfo& info, int64_t m, int64_t n, int64_t k, int64_t batch) {
    GemmVariant v;
    v.splitK = chooseSplitK(m, n, k, batch);
    v.tile = chooseGemmTile(info, m, n, batch * v.splitK.splits);
    v.vectorLoads = true;
    return v;
}

std::string describe(const GemmVariant& v) {
    const GemmTile& t = v.tile;
    std::string s = std::to_string(t.bm) + "x" + std::to_string(t.bn) + "x" + std::to_string(t.bk) + "/" +
                    std::to_string(t.tm) + "x" + std::to_string(t.tn) +
                    (t.kernel == GemmKernel::Blocked ? " blocked" : "") + (v.vectorLoads ? " vec4" : " scalar");
    if (v.splitK.splits > 1) s += " split-k " + std::to_string(v.splitK.splits) + "x" + std::to_string(v.splitK.kSplit);
    return s;
}

}  // namespace raven::vkb
