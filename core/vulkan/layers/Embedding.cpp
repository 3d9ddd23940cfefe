#include "vulkan/layers/Embedding.h"

#include "vulkan/Device.h"
#include "vulkan/Recorder.h"
#include "vulkan/layers/LayerSupport.h"

namespace raven::vulkan::layers {

using cpu::kernels::EmbeddingShape;

void embeddingForward(Device& device, Recorder& recorder, const EmbeddingShape& shape, const BufferRange& indices,
                      const BufferRange& weight, const BufferRange& y) {
    shape.validate();
    const auto count = static_cast<std::uint64_t>(shape.count), dim = static_cast<std::uint64_t>(shape.dim);
    if (count == 0) return;
    requireIndexable("embedding", "weight", static_cast<std::uint64_t>(shape.vocabulary) * dim);
    requireIndexable("embedding", "y", count * dim);
    requireFloats("embedding", "indices", indices, count);
    requireFloats("embedding", "weight", weight, static_cast<std::uint64_t>(shape.vocabulary) * dim);
    requireFloats("embedding", "y", y, count * dim);
    struct {
        std::uint32_t vocabulary, dim, count;
    } params{u32(shape.vocabulary), u32(shape.dim), u32(shape.count)};
    const std::uint32_t local = linearWorkgroupSize(device);
    const Pipeline& pipeline = device.pipelines().get({"layer_embedding_forward", 3, sizeof params, {local}});
    recorder.dispatch(pipeline, {{indices, Access::Read}, {weight, Access::Read}, {y, Access::Write}}, params,
                      Recorder::groupsFor(count * dim, local));
}

void embeddingBackward(Device& device, Recorder& recorder, const EmbeddingShape& shape, const BufferRange& indices,
                       const BufferRange& dy, const BufferRange& dweight) {
    shape.validate();
    const auto count = static_cast<std::uint64_t>(shape.count), dim = static_cast<std::uint64_t>(shape.dim);
    const std::uint64_t table = static_cast<std::uint64_t>(shape.vocabulary) * dim;
    requireIndexable("embedding backward", "dweight", table);
    requireIndexable("embedding backward", "dy", count * dim);
    requireFloats("embedding backward", "dweight", dweight, table);
    if (count > 0) {
        requireFloats("embedding backward", "indices", indices, count);
        requireFloats("embedding backward", "dy", dy, count * dim);
    }
    struct {
        std::uint32_t vocabulary, dim, count;
        std::int32_t paddingIndex;
    } params{u32(shape.vocabulary), u32(shape.dim), u32(shape.count), static_cast<std::int32_t>(shape.paddingIndex)};
    // Columns across the workgroup (64 keeps a narrow table from idling most invocations), rows along y.
    const std::uint32_t local = std::min(64u, linearWorkgroupSize(device));
    const Pipeline& pipeline = device.pipelines().get({"layer_embedding_backward", 3, sizeof params, {local}});
    // With no positions the shader only zeroes dweight; dweight stands in for the empty operands.
    recorder.dispatch(pipeline,
                      {{count > 0 ? indices : dweight, Access::Read},
                       {count > 0 ? dy : dweight, Access::Read},
                       {dweight, Access::Write}},
                      params, Groups{Recorder::groupsFor(dim, local).x, params.vocabulary, 1});
}

}  // namespace raven::vulkan::layers
