#include "vulkan/layers/Dropout.h"

#include "vulkan/Device.h"
#include "vulkan/Recorder.h"
#include "vulkan/layers/LayerSupport.h"

namespace raven::vulkan::layers {
namespace {

using cpu::kernels::DropoutShape;

void applyMask(Device& device, Recorder& recorder, const DropoutShape& shape, const BufferRange& in,
               const BufferRange& out) {
    shape.validate();
    const auto count = static_cast<std::uint64_t>(shape.count);
    if (count == 0) return;
    requireIndexable("dropout", "the input", count);
    requireFloats("dropout", "the input", in, count);
    requireFloats("dropout", "the output", out, count);
    struct {
        std::uint32_t count;
        float p, scale;
        std::uint32_t seedLow, seedHigh, offsetLow, offsetHigh;
    } params{static_cast<std::uint32_t>(count),
             shape.p,
             shape.p < 1.0f ? 1.0f / (1.0f - shape.p) : 0.0f,  // the CPU kernel's float expression
             static_cast<std::uint32_t>(shape.seed),
             static_cast<std::uint32_t>(shape.seed >> 32),
             static_cast<std::uint32_t>(shape.offset),
             static_cast<std::uint32_t>(shape.offset >> 32)};
    const std::uint32_t local = linearWorkgroupSize(device);
    const Pipeline& pipeline = device.pipelines().get({"layer_dropout", 2, sizeof params, {local}});
    recorder.dispatch(pipeline, {{in, Access::Read}, {out, Access::Write}}, params, Recorder::groupsFor(count, local));
}

}  // namespace

void dropoutForward(Device& device, Recorder& recorder, const DropoutShape& shape, const BufferRange& x,
                    const BufferRange& y) {
    applyMask(device, recorder, shape, x, y);
}

void dropoutBackward(Device& device, Recorder& recorder, const DropoutShape& shape, const BufferRange& dy,
                     const BufferRange& dx) {
    applyMask(device, recorder, shape, dy, dx);
}

}  // namespace raven::vulkan::layers
