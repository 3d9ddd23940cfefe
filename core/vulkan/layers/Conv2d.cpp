#include "vulkan/layers/Conv2d.h"

#include "vulkan/Device.h"
#include "vulkan/Recorder.h"
#include "vulkan/layers/DivisionMagic.h"
#include "vulkan/layers/LayerSupport.h"

#include <algorithm>

namespace raven::vulkan::layers {
namespace {

using cpu::kernels::Conv2dShape;

enum class Mode : std::uint32_t { Forward = 0, InputGradient = 1, WeightGradient = 2 };

// layer_conv2d.comp's push constants.
struct ConvParams {
    ConvGeometryPush geometry;
    std::uint32_t splits, kSplit;
    DivisionMagic positionsMagic, outWMagic;  // three uints each, as the shader reads them
};
static_assert(sizeof(ConvParams) == 25 * 4, "layer_conv2d.comp's push constants");

ConvParams paramsOf(const Conv2dShape& s, bool hasBias, const ConvSplit& split) {
    return {convGeometryPush(s, hasBias), split.splits, split.kSplit,
            divisionMagic(std::max<std::uint32_t>(u32(s.outH() * s.outW()), 1)),
            divisionMagic(std::max<std::uint32_t>(u32(s.outW()), 1))};
}

// gemm_splitk_reduce.comp's push constants.
struct ReduceParams {
    std::uint32_t n, splits, partOffset, sliceStride, cOffset, biasOffset, biasStride, columns, colBase, flags;
};

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
          Binding result, bool hasBias, const ConvSplit& split) {
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
    // The useful products (2 per multiply-add of the true convolution: padding and the gathers'
    // skipped taps excluded), for the profile's GFLOP/s.
    static constexpr const char* kKinds[] = {"conv2d_forward", "conv2d_input_grad", "conv2d_weight_grad"};
    const double macs = static_cast<double>(s.batch) * static_cast<double>(s.outChannels) * s.outH() * s.outW() *
                        static_cast<double>(cg) * static_cast<double>(taps);
    recorder.describeNext(kKinds[static_cast<std::uint32_t>(mode)], 2.0 * macs, 0);
    const GemmTiles t = chooseGemmTiles(device, m, n);
    const Pipeline& pipeline =
        device.pipelines().get({"layer_conv2d",
                                4,
                                sizeof(ConvParams),
                                {t.wx, t.wy, t.rm, t.rn, t.tk, static_cast<std::uint32_t>(mode), u32(s.kernelH),
                                 u32(s.kernelW), u32(s.strideH), u32(s.strideW)}});
    recorder.dispatch(pipeline, {a, b, bias, result}, paramsOf(s, hasBias, split),
                      gemmGroups(t, m, n, static_cast<std::uint64_t>(s.groups) * split.splits));
}

// One slice covering the whole K of any mode (the shader takes min(K, kSplit)).
constexpr ConvSplit kUnsplit{1, UINT32_MAX};

}  // namespace

ConvSplit weightGradientSplit(const Conv2dShape& s) {
    const auto K = static_cast<std::uint64_t>(s.batch) * s.outH() * s.outW();
    const std::uint64_t m = s.outChannels / s.groups;
    const std::uint64_t n = static_cast<std::uint64_t>(s.inChannels / s.groups) * s.kernelH * s.kernelW;
    const std::uint64_t weights = static_cast<std::uint64_t>(s.groups) * m * n;
    const std::uint64_t tiles = ((m + 63) / 64) * ((n + 63) / 64) * s.groups;
    if (K < kConvSplitMinK || tiles >= kConvSplitTargetGroups) return {1, u32(K)};
    std::uint64_t wanted =
        std::min<std::uint64_t>({(kConvSplitTargetGroups + tiles - 1) / tiles, K / kConvSplitMinSlice,
                                 kConvSplitMaxSlices, kConvSplitMaxScratchFloats / weights});
    if (wanted < 2) return {1, u32(K)};
    const std::uint64_t depth = ((K + wanted - 1) / wanted + 255) / 256 * 256;
    const std::uint64_t splits = (K + depth - 1) / depth;
    if (splits < 2) return {1, u32(K)};
    return {static_cast<std::uint32_t>(splits), static_cast<std::uint32_t>(depth)};
}

std::uint64_t conv2dBackwardScratchFloats(const Conv2dShape& s) {
    const ConvSplit split = weightGradientSplit(s);
    if (split.splits < 2) return 0;
    return static_cast<std::uint64_t>(split.splits) * s.outChannels * (s.inChannels / s.groups) * s.kernelH * s.kernelW;
}

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
         {orElse(bias, weight), Access::Read}, {y, Access::Write}, present(bias), kUnsplit);
}

void conv2dBackward(Device& device, Recorder& recorder, const Conv2dShape& shape, const BufferRange& x,
                    const BufferRange& weight, const BufferRange& dy, const BufferRange& dx, const BufferRange& dweight,
                    const BufferRange& dbias, const BufferRange& scratch) {
    shape.validate();
    checkIndexable(shape);
    const Sizes sizes = sizesOf(shape);
    requireFloats("conv2d backward", "dy", dy, sizes.y);
    if (present(dx)) {
        requireFloats("conv2d backward", "weight", weight, sizes.weight);
        requireFloats("conv2d backward", "dx", dx, sizes.x);
        gemm(device, recorder, shape, Mode::InputGradient, {weight, Access::Read}, {dy, Access::Read},
             {weight, Access::Read}, {dx, Access::Write}, false, kUnsplit);
    }
    if (present(dweight)) {
        requireFloats("conv2d backward", "x", x, sizes.x);
        requireFloats("conv2d backward", "dweight", dweight, sizes.weight);
        const ConvSplit split = weightGradientSplit(shape);
        if (split.splits < 2) {
            gemm(device, recorder, shape, Mode::WeightGradient, {dy, Access::Read}, {x, Access::Read},
                 {dy, Access::Read}, {dweight, Access::Write}, false, split);
        } else {
            requireFloats("conv2d backward", "scratch", scratch, conv2dBackwardScratchFloats(shape));
            gemm(device, recorder, shape, Mode::WeightGradient, {dy, Access::Read}, {x, Access::Read},
                 {dy, Access::Read}, {scratch, Access::Write}, false, split);
            const std::uint32_t local = linearWorkgroupSize(device);
            const ReduceParams params{u32(static_cast<std::int64_t>(sizes.weight)),
                                      split.splits,
                                      0,
                                      u32(static_cast<std::int64_t>(sizes.weight)),
                                      0,
                                      0,
                                      0,
                                      1,
                                      0,
                                      0};
            const Pipeline& reduce = device.pipelines().get({"gemm_splitk_reduce", 3, sizeof params, {local}});
            recorder.describeNext("conv2d_weight_grad_reduce", static_cast<double>(sizes.weight) * split.splits,
                                  4.0 * static_cast<double>(sizes.weight) * (split.splits + 1));
            recorder.dispatch(reduce, {{scratch, Access::Read}, {scratch, Access::Read}, {dweight, Access::Write}},
                              params, Recorder::groupsFor(sizes.weight, local));
        }
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
