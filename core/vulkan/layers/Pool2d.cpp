#include "vulkan/layers/Pool2d.h"

#include "vulkan/Device.h"
#include "vulkan/Recorder.h"
#include "vulkan/layers/LayerSupport.h"

namespace raven::vulkan::layers {
namespace {

using cpu::kernels::Pool2dShape;

// include/layer_pool.glsl's push constants.
struct PoolParams {
    std::uint32_t planes, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW;
    std::uint32_t countIncludePad;
};

struct Sizes {
    std::uint64_t input, output;
};

Sizes checked(const char* op, const Pool2dShape& s) {
    s.validate();
    const std::uint64_t planes = static_cast<std::uint64_t>(s.batch) * s.channels;
    const Sizes sizes{planes * s.height * s.width, planes * s.outH() * s.outW()};
    requireIndexable(op, "the input", sizes.input);
    requireIndexable(op, "the output", sizes.output);
    return sizes;
}

PoolParams paramsOf(const Pool2dShape& s, bool countIncludePad) {
    return {u32(s.batch * s.channels),
            u32(s.height),
            u32(s.width),
            u32(s.kernelH),
            u32(s.kernelW),
            u32(s.strideH),
            u32(s.strideW),
            u32(s.padH),
            u32(s.padW),
            u32(s.outH()),
            u32(s.outW()),
            countIncludePad ? 1u : 0u};
}

const Pipeline& pipelineFor(Device& device, const char* shader, std::uint32_t bindings) {
    return device.pipelines().get({shader, bindings, sizeof(PoolParams), {linearWorkgroupSize(device)}});
}

// verifiable_max_pool2d.comp: both passes in one shader, MODE 0 forward and 1 backward, four bindings
// (each pass leaves one unused; it is given a range the pass reads anyway).
const Pipeline& verifiablePipeline(Device& device, std::uint32_t mode) {
    return device.pipelines().get(
        {"verifiable_max_pool2d", 4, sizeof(PoolParams), {linearWorkgroupSize(device), mode}});
}

// verifiable_avg_pool2d.comp: MODE 0 forward, 1 backward; two bindings as the fast shaders.
const Pipeline& verifiableAvgPipeline(Device& device, std::uint32_t mode) {
    return device.pipelines().get(
        {"verifiable_avg_pool2d", 2, sizeof(PoolParams), {linearWorkgroupSize(device), mode}});
}

}  // namespace

void maxPool2dForward(Device& device, Recorder& recorder, const Pool2dShape& shape, const BufferRange& x,
                      const BufferRange& y, const BufferRange& argmax, bool verifiable) {
    const Sizes sizes = checked("max_pool2d", shape);
    requireFloats("max_pool2d", "x", x, sizes.input);
    requireFloats("max_pool2d", "y", y, sizes.output);
    requireFloats("max_pool2d", "argmax", argmax, sizes.output);
    if (verifiable) {
        const Pipeline& pipeline = verifiablePipeline(device, 0);
        recorder.dispatch(pipeline, {{x, Access::Read}, {x, Access::Read}, {y, Access::Write}, {argmax, Access::Write}},
                          paramsOf(shape, true), Recorder::groupsFor(sizes.output, pipeline.desc.specialization[0]));
        return;
    }
    const Pipeline& pipeline = pipelineFor(device, "layer_max_pool2d_forward", 3);
    recorder.dispatch(pipeline, {{x, Access::Read}, {y, Access::Write}, {argmax, Access::Write}}, paramsOf(shape, true),
                      Recorder::groupsFor(sizes.output, pipeline.desc.specialization[0]));
}

void maxPool2dBackward(Device& device, Recorder& recorder, const Pool2dShape& shape, const BufferRange& argmax,
                       const BufferRange& dy, const BufferRange& dx, bool verifiable) {
    const Sizes sizes = checked("max_pool2d backward", shape);
    requireFloats("max_pool2d backward", "argmax", argmax, sizes.output);
    requireFloats("max_pool2d backward", "dy", dy, sizes.output);
    requireFloats("max_pool2d backward", "dx", dx, sizes.input);
    if (verifiable) {
        const Pipeline& pipeline = verifiablePipeline(device, 1);
        recorder.dispatch(pipeline,
                          {{argmax, Access::Read}, {dy, Access::Read}, {dx, Access::Write}, {dy, Access::Read}},
                          paramsOf(shape, true), Recorder::groupsFor(sizes.input, pipeline.desc.specialization[0]));
        return;
    }
    const Pipeline& pipeline = pipelineFor(device, "layer_max_pool2d_backward", 3);
    recorder.dispatch(pipeline, {{argmax, Access::Read}, {dy, Access::Read}, {dx, Access::Write}},
                      paramsOf(shape, true), Recorder::groupsFor(sizes.input, pipeline.desc.specialization[0]));
}

void avgPool2dForward(Device& device, Recorder& recorder, const Pool2dShape& shape, const BufferRange& x,
                      const BufferRange& y, bool countIncludePad, bool verifiable) {
    const Sizes sizes = checked("avg_pool2d", shape);
    requireFloats("avg_pool2d", "x", x, sizes.input);
    requireFloats("avg_pool2d", "y", y, sizes.output);
    const Pipeline& pipeline =
        verifiable ? verifiableAvgPipeline(device, 0) : pipelineFor(device, "layer_avg_pool2d_forward", 2);
    recorder.dispatch(pipeline, {{x, Access::Read}, {y, Access::Write}}, paramsOf(shape, countIncludePad),
                      Recorder::groupsFor(sizes.output, pipeline.desc.specialization[0]));
}

void avgPool2dBackward(Device& device, Recorder& recorder, const Pool2dShape& shape, const BufferRange& dy,
                       const BufferRange& dx, bool countIncludePad, bool verifiable) {
    const Sizes sizes = checked("avg_pool2d backward", shape);
    requireFloats("avg_pool2d backward", "dy", dy, sizes.output);
    requireFloats("avg_pool2d backward", "dx", dx, sizes.input);
    const Pipeline& pipeline =
        verifiable ? verifiableAvgPipeline(device, 1) : pipelineFor(device, "layer_avg_pool2d_backward", 2);
    recorder.dispatch(pipeline, {{dy, Access::Read}, {dx, Access::Write}}, paramsOf(shape, countIncludePad),
                      Recorder::groupsFor(sizes.input, pipeline.desc.specialization[0]));
}

}  // namespace raven::vulkan::layers
