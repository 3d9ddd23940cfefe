#include "vulkan/layers/Conv2d.h"

#include "vulkan/Device.h"
#include "vulkan/Recorder.h"
#include "vulkan/layers/LayerSupport.h"

namespace raven::vulkan::layers {
namespace {

using cpu::kernels::Conv2dShape;

enum class Mode : std::uint32_t { Forward = 0, InputGradient = 1, WeightGradient = 2 };

// layer_conv2d.comp's push constants.
struct ConvParams {
    std::uint32_t batch, inChannels, height, width, outChannels;
    std::uint32_t kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW;
    std::uint32_t groups, outH, outW, hasBias;
};

ConvParams paramsOf(const Conv2dShape& s, bool hasBias) {
    return {u32(s.batch),     u32(s.inChannels), u32(s.height),  u32(s.width),  u32(s.outChannels), u32(s.kernelH),
            u32(s.kernelW),   u32(s.strideH),    u32(s.strideW), u32(s.padH),   u32(s.padW),        u32(s.dilationH),
            u32(s.dilationW), u32(s.groups),     u32(s.outH()),  u32(s.outW()), hasBias ? 1u : 0u};
}

struct Sizes {
    std::uint64_t x, weight, y;
};

Sizes sizesOf(const Conv2dShape& s) {
    const auto n = static_cast<std::uint64_t>(s.batch);
    return {n * s.inChannels * s.height * s.width,
            static_cast<std::uint64_t>(s.outChannels) * (s.inChannels / s.groups) * s.kernelH * s.kernelW,
            n * s.outChannels * s.outH() * s.outW()};
}

void checkIndexable(const Conv2dShape& s) {
    const Sizes sizes = sizesOf(s);
    requireIndexable("conv2d", "x", sizes.x);
    requireIndexable("conv2d", "weight", sizes.weight);
    requireIndexable("conv2d", "y", sizes.y);
}

void gemm(Device& device, Recorder& recorder, const Conv2dShape& s, Mode mode, Binding a, Binding b, Binding bias,
          Binding result, bool hasBias) {
    const std::uint64_t taps = static_cast<std::uint64_t>(s.kernelH) * s.kernelW;
    const std::uint64_t cg = s.inChannels / s.groups, kg = s.outChannels / s.groups;
    std::uint64_t m = 0, n = 0;
    switch (mode) {
        case Mode::Forward:
            m = kg, n = static_cast<std::uint64_t>(s.batch) * s.outH() * s.outW();
            break;
        case Mode::InputGradient:
            m = cg, n = static_cast<std::uint64_t>(s.batch) * s.height * s.width;
            break;
        case Mode::WeightGradient:
            m = kg, n = cg * taps;
            break;
    }
    const GemmTiles t = chooseGemmTiles(device, m, n);
    const Pipeline& pipeline = device.pipelines().get(
        {"layer_conv2d", 4, sizeof(ConvParams), {t.wx, t.wy, t.rm, t.rn, t.tk, static_cast<std::uint32_t>(mode)}});
    recorder.dispatch(pipeline, {a, b, bias, result}, paramsOf(s, hasBias),
                      gemmGroups(t, m, n, static_cast<std::uint64_t>(s.groups)));
}

}  // namespace

void conv2dForward(Device& device, Recorder& recorder, const Conv2dShape& shape, const BufferRange& x,
                   const BufferRange& weight, const BufferRange& bias, const BufferRange& y) {
    shape.validate();
    checkIndexable(shape);
    const Sizes sizes = sizesOf(shape);
    requireFloats("conv2d", "x", x, sizes.x);
    requireFloats("conv2d", "weight", weight, sizes.weight);
    requireFloats("conv2d", "y", y, sizes.y);
    if (present(bias)) requireFloats("conv2d", "bias", bias, static_cast<std::uint64_t>(shape.outChannels));
    gemm(device, recorder, shape, Mode::Forward, {weight, Access::Read}, {x, Access::Read},
         {orElse(bias, weight), Access::Read}, {y, Access::Write}, present(bias));
}

void conv2dBackward(Device& device, Recorder& recorder, const Conv2dShape& shape, const BufferRange& x,
                    const BufferRange& weight, const BufferRange& dy, const BufferRange& dx, const BufferRange& dweight,
                    const BufferRange& dbias) {
    shape.validate();
    checkIndexable(shape);
    const Sizes sizes = sizesOf(shape);
    requireFloats("conv2d backward", "dy", dy, sizes.y);
    if (present(dx)) {
        requireFloats("conv2d backward", "weight", weight, sizes.weight);
        requireFloats("conv2d backward", "dx", dx, sizes.x);
        gemm(device, recorder, shape, Mode::InputGradient, {weight, Access::Read}, {dy, Access::Read},
             {weight, Access::Read}, {dx, Access::Write}, false);
    }
    if (present(dweight)) {
        requireFloats("conv2d backward", "x", x, sizes.x);
        requireFloats("conv2d backward", "dweight", dweight, sizes.weight);
        gemm(device, recorder, shape, Mode::WeightGradient, {dy, Access::Read}, {x, Access::Read}, {dy, Access::Read},
             {dweight, Access::Write}, false);
    }
    if (present(dbias)) {
        requireFloats("conv2d backward", "dbias", dbias, static_cast<std::uint64_t>(shape.outChannels));
        const std::uint32_t local = reductionWorkgroupSize(device);
        struct {
            std::uint32_t batch, channels, spatial;
        } params{u32(shape.batch), u32(shape.outChannels), u32(shape.outH() * shape.outW())};
        const Pipeline& pipeline = device.pipelines().get({"layer_channel_sum", 2, sizeof params, {local}});
        recorder.dispatch(pipeline, {{dy, Access::Read}, {dbias, Access::Write}}, params,
                          Groups{params.channels, 1, 1});
    }
}

}  // namespace raven::vulkan::layers
