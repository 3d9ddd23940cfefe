#include "vulkan/layers/VerifiableConv2d.h"

#include "base/Error.h"
#include "vulkan/Device.h"
#include "vulkan/Recorder.h"
#include "vulkan/layers/LayerSupport.h"

#include <algorithm>
#include <string>

namespace raven::vulkan::layers {
namespace {

using cpu::kernels::Conv2dShape;

// verifiable_conv2d.comp's passes (its MODE specialization constant).
enum class VerifiableConvPass : std::uint32_t {
    Forward = 0,
    InputGradient = 1,
    WeightGradientPerSample = 2,
    WeightGradientCombine = 3,         // the per-sample products read from scratch
    WeightGradientCombineInPlace = 4,  // the per-sample products computed on the way
};

// verifiable_conv2d.comp's push constants.
struct VerifiableConvParams {
    ConvGeometryPush geometry;
    std::uint32_t pointwise, chunk;
};
static_assert(sizeof(VerifiableConvParams) <= 128, "push constants beyond the guaranteed 128 bytes");

VerifiableConvParams verifiableParamsOf(const Conv2dShape& s, bool hasBias) {
    const bool pointwise = s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 && s.strideW == 1 && s.padH == 0 &&
                           s.padW == 0;  // Conv2d.cpp's isPointwise: the CPU skips im2col and col2im
    return {convGeometryPush(s, hasBias), pointwise ? 1u : 0u,
            u32(s.batch > 0 ? cpu::kernels::conv2dWeightGradientChunk(s.batch) : 1)};
}

struct VerifiableConvSizes {
    std::uint64_t x, weight, y;
};

VerifiableConvSizes checkedSizes(const Conv2dShape& s) {
    s.validate();
    const auto n = static_cast<std::uint64_t>(s.batch);
    const VerifiableConvSizes sizes{
        n * s.inChannels * s.height * s.width,
        static_cast<std::uint64_t>(s.outChannels) * (s.inChannels / s.groups) * s.kernelH * s.kernelW,
        n * s.outChannels * s.outH() * s.outW()};
    requireIndexable("verifiable conv2d", "x", sizes.x);
    requireIndexable("verifiable conv2d", "weight", sizes.weight);
    requireIndexable("verifiable conv2d", "y", sizes.y);
    return sizes;
}

// lavapipe (Mesa's llvmpipe) ends an invocation's loops after 65535 iterations in all
// (LP_MAX_TGSI_LOOP_ITERATIONS) without any error, so a longer sum would silently stop short. The bias
// gradient is split into windows (kVerifiableConvBiasWindow); a pass whose invocations would loop
// longer than that is refused on lavapipe instead of computing a wrong verifiable result.
constexpr std::uint64_t kLlvmpipeLoopIterations = 65535;

std::uint64_t loopIterations(const Conv2dShape& s, VerifiableConvPass pass) {
    const auto taps = static_cast<std::uint64_t>(s.kernelH * s.kernelW);
    const auto colRows = static_cast<std::uint64_t>(s.inChannels / s.groups) * taps;
    const auto kPerGroup = static_cast<std::uint64_t>(s.outChannels / s.groups);
    const auto positions = static_cast<std::uint64_t>(s.outH() * s.outW());
    const auto batch = static_cast<std::uint64_t>(s.batch);
    switch (pass) {
        case VerifiableConvPass::Forward:  // the c, i, j loops
            return colRows + static_cast<std::uint64_t>(s.inChannels / s.groups) * (s.kernelH + 1);
        case VerifiableConvPass::InputGradient:
            return taps * (kPerGroup + 1) + static_cast<std::uint64_t>(s.kernelH);
        case VerifiableConvPass::WeightGradientPerSample:  // the oh, ow loops
            return positions + static_cast<std::uint64_t>(s.outH());
        case VerifiableConvPass::WeightGradientCombine:
            return 2 * batch;
        case VerifiableConvPass::WeightGradientCombineInPlace:
            return batch * (positions + static_cast<std::uint64_t>(s.outH()) + 2);
    }
    return 0;
}

void requireLoopBudget(const Device& device, const Conv2dShape& s, VerifiableConvPass pass, const char* kind) {
    const std::uint64_t iterations = loopIterations(s, pass);
    if (device.info().driverName != "llvmpipe" || iterations <= kLlvmpipeLoopIterations) return;
    fail(std::string(kind) + " would loop " + std::to_string(iterations) + " times in one invocation, and " +
             device.info().name + " (lavapipe) stops any invocation after 65535",
         "compute this verifiable unit on the CPU backend or on a GPU, or use smaller layers or batches");
}

void runPass(Device& device, Recorder& recorder, const Conv2dShape& s, VerifiableConvPass pass,
             std::initializer_list<Binding> bindings, bool hasBias, std::uint64_t invocations, const char* kind,
             double macs) {
    requireLoopBudget(device, s, pass, kind);
    const std::uint32_t local = linearWorkgroupSize(device);
    const Pipeline& pipeline = device.pipelines().get(
        {"verifiable_conv2d", 4, sizeof(VerifiableConvParams), {local, static_cast<std::uint32_t>(pass)}});
    recorder.describeNext(kind, 2.0 * macs, 0);
    recorder.dispatch(pipeline, bindings, verifiableParamsOf(s, hasBias), Recorder::groupsFor(invocations, local));
}

// The multiply-adds of the true convolution (padding included: the verifiable passes multiply im2col's
// zeros as the CPU's product does), for the profile's GFLOP/s.
double convMacs(const Conv2dShape& s) {
    return static_cast<double>(s.batch) * static_cast<double>(s.outChannels) * static_cast<double>(s.outH()) *
           static_cast<double>(s.outW()) * static_cast<double>(s.inChannels / s.groups) *
           static_cast<double>(s.kernelH * s.kernelW);
}

}  // namespace

void verifiableConv2dForward(Device& device, Recorder& recorder, const Conv2dShape& shape, const BufferRange& x,
                             const BufferRange& weight, const BufferRange& bias, const BufferRange& y) {
    const VerifiableConvSizes sizes = checkedSizes(shape);
    requireFloats("verifiable conv2d", "x", x, sizes.x);
    requireFloats("verifiable conv2d", "weight", weight, sizes.weight);
    requireFloats("verifiable conv2d", "y", y, sizes.y);
    if (present(bias)) requireFloats("verifiable conv2d", "bias", bias, static_cast<std::uint64_t>(shape.outChannels));
    runPass(device, recorder, shape, VerifiableConvPass::Forward,
            {{x, Access::Read}, {weight, Access::Read}, {orElse(bias, weight), Access::Read}, {y, Access::Write}},
            present(bias), sizes.y, "verifiable_conv2d_forward", convMacs(shape));
}

std::uint64_t verifiableConv2dBackwardScratchFloats(const Conv2dShape& shape) {
    const std::uint64_t floats = static_cast<std::uint64_t>(shape.batch) *
                                 static_cast<std::uint64_t>(shape.outChannels) *
                                 static_cast<std::uint64_t>(shape.inChannels / shape.groups) *
                                 static_cast<std::uint64_t>(shape.kernelH * shape.kernelW);
    return floats <= kVerifiableConvMaxScratchFloats ? floats : 0;
}

std::uint64_t verifiableConv2dBiasScratchFloats(const Conv2dShape& shape) {
    return static_cast<std::uint64_t>(shape.outChannels) * 16;
}

void verifiableConv2dBackward(Device& device, Recorder& recorder, const Conv2dShape& shape, const BufferRange& x,
                              const BufferRange& weight, const BufferRange& dy, const BufferRange& dx,
                              const BufferRange& dweight, const BufferRange& dbias, const BufferRange& scratch,
                              const BufferRange& biasScratch) {
    const VerifiableConvSizes sizes = checkedSizes(shape);
    requireFloats("verifiable conv2d backward", "dy", dy, sizes.y);
    // Every refusal before anything is recorded.
    if (present(dx))
        requireLoopBudget(device, shape, VerifiableConvPass::InputGradient, "the verifiable input gradient");
    if (present(dweight)) {
        const bool inPlace = verifiableConv2dBackwardScratchFloats(shape) == 0;
        for (const VerifiableConvPass pass :
             {inPlace ? VerifiableConvPass::WeightGradientCombineInPlace : VerifiableConvPass::WeightGradientPerSample,
              inPlace ? VerifiableConvPass::WeightGradientCombineInPlace : VerifiableConvPass::WeightGradientCombine})
            requireLoopBudget(device, shape, pass, "the verifiable weight gradient");
    }
    if (present(dbias)) {
        RAVEN_CHECK(device.info().shaderFloat64,
                    "the verifiable conv2d bias gradient sums in double precision, as the CPU's does, and " +
                        device.info().name + " has no shaderFloat64",
                    "compute verifiable units on the CPU backend or on a device with float64 shaders, or run the "
                    "job in the fast kernel mode");
        requireFloats("verifiable conv2d backward", "dbias", dbias, static_cast<std::uint64_t>(shape.outChannels));
        requireFloats("verifiable conv2d backward", "bias scratch", biasScratch,
                      verifiableConv2dBiasScratchFloats(shape));
    }
    if (present(dx)) {
        requireFloats("verifiable conv2d backward", "weight", weight, sizes.weight);
        requireFloats("verifiable conv2d backward", "dx", dx, sizes.x);
        runPass(device, recorder, shape, VerifiableConvPass::InputGradient,
                {{dy, Access::Read}, {weight, Access::Read}, {weight, Access::Read}, {dx, Access::Write}}, false,
                sizes.x, "verifiable_conv2d_input_grad", convMacs(shape));
    }
    if (present(dweight)) {
        requireFloats("verifiable conv2d backward", "x", x, sizes.x);
        requireFloats("verifiable conv2d backward", "dweight", dweight, sizes.weight);
        const std::uint64_t scratchFloats = verifiableConv2dBackwardScratchFloats(shape);
        if (scratchFloats > 0) {
            requireFloats("verifiable conv2d backward", "scratch", scratch, scratchFloats);
            runPass(device, recorder, shape, VerifiableConvPass::WeightGradientPerSample,
                    {{x, Access::Read}, {dy, Access::Read}, {dy, Access::Read}, {scratch, Access::Write}}, false,
                    scratchFloats, "verifiable_conv2d_weight_grad", convMacs(shape));
            runPass(device, recorder, shape, VerifiableConvPass::WeightGradientCombine,
                    {{x, Access::Read}, {scratch, Access::Read}, {scratch, Access::Read}, {dweight, Access::Write}},
                    false, sizes.weight, "verifiable_conv2d_weight_grad_combine",
                    static_cast<double>(scratchFloats) / 2.0);
        } else {
            runPass(device, recorder, shape, VerifiableConvPass::WeightGradientCombineInPlace,
                    {{x, Access::Read}, {dy, Access::Read}, {dy, Access::Read}, {dweight, Access::Write}}, false,
                    sizes.weight, "verifiable_conv2d_weight_grad", convMacs(shape));
        }
    }
    if (present(dbias)) {
        const std::uint32_t local = linearWorkgroupSize(device);
        const std::uint64_t terms = static_cast<std::uint64_t>(shape.batch) * shape.outH() * shape.outW();
        struct {
            std::uint32_t batch, channels, positions, first, end, last;
        } params{u32(shape.batch), u32(shape.outChannels), u32(shape.outH() * shape.outW()), 0, 0, 0};
        const Pipeline& pipeline = device.pipelines().get({"verifiable_conv2d_bias", 3, sizeof params, {local}});
        for (std::uint64_t first = 0; first < terms; first += kVerifiableConvBiasWindow) {
            const std::uint64_t end = std::min(terms, first + kVerifiableConvBiasWindow);
            params.first = static_cast<std::uint32_t>(first);
            params.end = static_cast<std::uint32_t>(end);
            params.last = end == terms ? 1u : 0u;
            recorder.describeNext("verifiable_conv2d_bias_grad",
                                  static_cast<double>(end - first) * static_cast<double>(shape.outChannels),
                                  4.0 * static_cast<double>(end - first) * static_cast<double>(shape.outChannels));
            recorder.dispatch(pipeline, {{dy, Access::Read}, {biasScratch, Access::ReadWrite}, {dbias, Access::Write}},
                              params, Recorder::groupsFor(params.channels, local));
        }
    }
}

}  // namespace raven::vulkan::layers
