#include "vulkan/layers/BatchedMatmul.h"

#include "vulkan/Device.h"
#include "vulkan/Recorder.h"
#include "vulkan/layers/LayerSupport.h"

namespace raven::vulkan::layers {

void batchedMatmul(Device& device, Recorder& recorder, const MatmulGeometry& g, const BufferRange& a,
                   const BufferRange& b, const BufferRange& c) {
    if (g.batches == 0 || g.m == 0 || g.n == 0) return;
    // The largest element each operand addresses, plus one: what it must hold.
    const std::uint64_t aSpan = (g.batches - 1) * g.aBatch + (g.m - 1) * g.aRow + (g.k - 1) * g.aCol + 1;
    const std::uint64_t bSpan = (g.batches - 1) * g.bBatch + (g.k - 1) * g.bRow + (g.n - 1) * g.bCol + 1;
    const std::uint64_t cSize = g.batches * g.m * g.n;
    requireIndexable("batched matmul", "A", aSpan);
    requireIndexable("batched matmul", "B", bSpan);
    requireIndexable("batched matmul", "C", cSize);
    requireFloats("batched matmul", "A", a, aSpan);
    requireFloats("batched matmul", "B", b, bSpan);
    requireFloats("batched matmul", "C", c, cSize);
    struct {
        std::uint32_t m, n, k, aBatch, aRow, aCol, bBatch, bRow, bCol;
        float alpha;
    } params{static_cast<std::uint32_t>(g.m),      static_cast<std::uint32_t>(g.n),
             static_cast<std::uint32_t>(g.k),      static_cast<std::uint32_t>(g.aBatch),
             static_cast<std::uint32_t>(g.aRow),   static_cast<std::uint32_t>(g.aCol),
             static_cast<std::uint32_t>(g.bBatch), static_cast<std::uint32_t>(g.bRow),
             static_cast<std::uint32_t>(g.bCol),   g.alpha};
    const GemmTiles t = chooseGemmTiles(device, g.m, g.n);
    const Pipeline& pipeline =
        device.pipelines().get({"layer_matmul", 3, sizeof params, {t.wx, t.wy, t.rm, t.rn, t.tk}});
    recorder.dispatch(pipeline, {{a, Access::Read}, {b, Access::Read}, {c, Access::Write}}, params,
                      gemmGroups(t, g.m, g.n, g.batches));
}

}  // namespace raven::vulkan::layers
