// The layer kernels of the Vulkan backend: each makes its operands bindable (contiguous, starting at
// the start of their storage, since binding offsets must be aligned), allocates the outputs and records
// the matching function of core/vulkan/layers (raven_vulkan_layers) into this backend's Recorder.
// Shapes were checked by autograd/LayerOps.cpp; the shape structs' validate() remains as a second guard.
// Integer inputs (embedding indices) are checked on the device (check_indices.comp); a bad one is
// reported by the next sync point.
#include "vulkan/backend/StridedLayout.h"
#include "vulkan/backend/VulkanBackend.h"

#include "base/Error.h"
#include "tensor/BackendShapes.h"
#include "cpu/kernels/Kernels.h"
#include "vulkan/layers/Layers.h"

#include <algorithm>

namespace raven {

namespace k = cpu::kernels;
namespace layers = vulkan::layers;
using vulkan::Access;
using vulkan::BufferRange;

namespace {

struct CheckPush {
    uint32_t n, offset;
    float limit;
};

// Layer functions bind whole ranges: operands start at their storage's (aligned) start.
Tensor bindable(VulkanBackend& backend, const Tensor& t) {
    if (!t.defined()) return t;
    return t.isContiguous() && t.offset() == 0 ? t : backend.contiguousCopy(t);
}

BufferRange whole(VulkanBackend& backend, const Tensor& t) {
    if (!t.defined() || t.numel() == 0) return {};
    const BufferRange& r = backend.rangeOf(t);
    return {r.buffer, r.offset, static_cast<VkDeviceSize>(t.numel()) * sizeof(float)};
}

void checkIndices(VulkanBackend& backend, const Tensor& indices, int64_t limit, const char* op) {
    if (indices.numel() == 0) return;
    const BufferRange status = backend.statusWord([op, limit](uint32_t position) {
        return std::string(op) + " (Vulkan): the index at position " + std::to_string(position) +
               " is not an integer in [0, " + std::to_string(limit) + ")";
    });
    const uint32_t local = backend.elementwiseWorkgroupSize();
    const vulkan::Pipeline& pipeline = backend.pipeline({"check_indices", 2, sizeof(CheckPush), {local}});
    const CheckPush push{vkb::narrowToU32(indices.numel()), vkb::narrowToU32(indices.offset()),
                         static_cast<float>(limit)};
    backend.recorder().dispatch(pipeline, {{backend.rangeOf(indices), Access::Read}, {status, Access::ReadWrite}}, push,
                                vulkan::Recorder::groupsFor(static_cast<uint64_t>(indices.numel()), local));
}

}  // namespace

// --- convolution ---

Tensor VulkanBackend::conv2d(const Tensor& xIn, const Tensor& weightIn, const Tensor& biasIn, const Conv2dGeometry& g) {
    const bool verifiable = kernelMode_ == KernelMode::Verifiable;
    if (verifiable) requireVerifiableDevice();
    const Tensor x = bindable(*this, xIn), weight = bindable(*this, weightIn), bias = bindable(*this, biasIn);
    const k::Conv2dShape s = convShape(x.shape(), weight.shape(), g);
    s.validate();
    Tensor y = empty({s.batch, s.outChannels, s.outH(), s.outW()});
    if (y.numel() == 0) return y;
    if (verifiable)
        layers::verifiableConv2dForward(device(), recorder(), s, whole(*this, x), whole(*this, weight),
                                        whole(*this, bias), whole(*this, y));
    else
        layers::conv2dForward(device(), recorder(), s, whole(*this, x), whole(*this, weight), whole(*this, bias),
                              whole(*this, y));
    return y;
}

LayerGrads VulkanBackend::conv2dBackward(const Tensor& xIn, const Tensor& weightIn, const Tensor& gradYIn,
                                         const Shape& inputShape, const Conv2dGeometry& g, GradsWanted wanted) {
    const bool verifiable = kernelMode_ == KernelMode::Verifiable;
    if (verifiable) requireVerifiableDevice();
    const auto [wantX, wantWeight, wantBias] = wanted;
    RAVEN_ASSERT(!wantWeight || xIn.defined(), "conv2dBackward: the weight gradient needs x");
    const Tensor x = wantWeight ? bindable(*this, xIn) : Tensor();
    const Tensor weight = bindable(*this, weightIn), gradY = bindable(*this, gradYIn);
    const k::Conv2dShape s = convShape(inputShape, weight.shape(), g);
    s.validate();
    // The layer functions overwrite every output; zeros only where nothing will run.
    const bool nothing = gradY.numel() == 0;
    auto make = [&](const Shape& shape) { return nothing ? fill(shape, 0.0f) : empty(shape); };
    LayerGrads grads;
    if (wantX) grads.input = make(inputShape);
    if (wantWeight) grads.weight = make(weight.shape());
    if (wantBias) grads.bias = make({s.outChannels});
    if (gradY.numel() == 0) return grads;
    Tensor scratch;
    const std::uint64_t scratchFloats =
        verifiable ? layers::verifiableConv2dBackwardScratchFloats(s) : layers::conv2dBackwardScratchFloats(s);
    if (wantWeight && scratchFloats > 0) scratch = empty({static_cast<int64_t>(scratchFloats)});
    if (verifiable) {
        const Tensor biasScratch =
            wantBias ? empty({static_cast<int64_t>(layers::verifiableConv2dBiasScratchFloats(s))}) : Tensor();
        layers::verifiableConv2dBackward(device(), recorder(), s, whole(*this, x), whole(*this, weight),
                                         whole(*this, gradY), whole(*this, grads.input), whole(*this, grads.weight),
                                         whole(*this, grads.bias), whole(*this, scratch), whole(*this, biasScratch));
        return grads;
    }
    layers::conv2dBackward(device(), recorder(), s, whole(*this, x), whole(*this, weight), whole(*this, gradY),
                           whole(*this, grads.input), whole(*this, grads.weight), whole(*this, grads.bias),
                           whole(*this, scratch));
    return grads;
}

// --- pooling ---

MaxPool2dResult VulkanBackend::maxPool2d(const Tensor& xIn, const Pool2dWindow& window) {
    const bool verifiable = kernelMode_ == KernelMode::Verifiable;
    if (verifiable) requireVerifiableDevice();
    const Tensor x = bindable(*this, xIn);
    const k::Pool2dShape s = poolShape(x.shape(), window);
    s.validate();
    RAVEN_ASSERT(s.height * s.width <= (int64_t{1} << 24), "maxPool2d: plane too large for float indices");
    const Shape outShape{s.batch, s.channels, s.outH(), s.outW()};
    MaxPool2dResult result{empty(outShape), empty(outShape)};
    if (result.values.numel() == 0) return result;
    layers::maxPool2dForward(device(), recorder(), s, whole(*this, x), whole(*this, result.values),
                             whole(*this, result.argmax), verifiable);
    return result;
}

Tensor VulkanBackend::maxPool2dBackward(const Tensor& argmaxIn, const Tensor& gradYIn, const Shape& inputShape,
                                        const Pool2dWindow& window) {
    const bool verifiable = kernelMode_ == KernelMode::Verifiable;
    if (verifiable) requireVerifiableDevice();
    const k::Pool2dShape s = poolShape(inputShape, window);
    s.validate();
    const Tensor argmax = bindable(*this, argmaxIn), gradY = bindable(*this, gradYIn);
    // The layer functions overwrite every output; zeros only where nothing will run.
    const bool nothing = gradY.numel() == 0;
    auto make = [&](const Shape& shape) { return nothing ? fill(shape, 0.0f) : empty(shape); };
    Tensor dx = make(inputShape);
    if (gradY.numel() == 0 || dx.numel() == 0) return dx;
    layers::maxPool2dBackward(device(), recorder(), s, whole(*this, argmax), whole(*this, gradY), whole(*this, dx),
                              verifiable);
    return dx;
}

Tensor VulkanBackend::avgPool2d(const Tensor& xIn, const Pool2dWindow& window, bool countIncludePad) {
    const bool verifiable = kernelMode_ == KernelMode::Verifiable;
    if (verifiable) requireVerifiableDevice();
    const Tensor x = bindable(*this, xIn);
    const k::Pool2dShape s = poolShape(x.shape(), window);
    s.validate();
    Tensor y = empty({s.batch, s.channels, s.outH(), s.outW()});
    if (y.numel() == 0) return y;
    layers::avgPool2dForward(device(), recorder(), s, whole(*this, x), whole(*this, y), countIncludePad, verifiable);
    return y;
}

Tensor VulkanBackend::avgPool2dBackward(const Tensor& gradYIn, const Shape& inputShape, const Pool2dWindow& window,
                                        bool countIncludePad) {
    const bool verifiable = kernelMode_ == KernelMode::Verifiable;
    if (verifiable) requireVerifiableDevice();
    const k::Pool2dShape s = poolShape(inputShape, window);
    s.validate();
    const Tensor gradY = bindable(*this, gradYIn);
    // The layer functions overwrite every output; zeros only where nothing will run.
    const bool nothing = gradY.numel() == 0;
    auto make = [&](const Shape& shape) { return nothing ? fill(shape, 0.0f) : empty(shape); };
    Tensor dx = make(inputShape);
    if (gradY.numel() == 0 || dx.numel() == 0) return dx;
    layers::avgPool2dBackward(device(), recorder(), s, whole(*this, gradY), whole(*this, dx), countIncludePad,
                              verifiable);
    return dx;
}

// --- normalization ---

NormResult VulkanBackend::layerNorm(const Tensor& xIn, int64_t features, const Tensor& weightIn, const Tensor& biasIn,
                                    float eps) {
    refuseUnverifiable("layerNorm");
    const Tensor x = bindable(*this, xIn), weight = bindable(*this, weightIn), bias = bindable(*this, biasIn);
    RAVEN_ASSERT(features > 0 && x.numel() % features == 0, "layerNorm: features must divide the element count");
    const k::LayerNormShape s{.rows = x.numel() / features, .features = features, .eps = eps};
    s.validate();
    NormResult result{empty(x.shape()), empty({s.rows}), empty({s.rows})};
    if (x.numel() == 0) return result;
    layers::layerNormForward(device(), recorder(), s, whole(*this, x), whole(*this, weight), whole(*this, bias),
                             whole(*this, result.y), whole(*this, result.mean), whole(*this, result.invStd));
    return result;
}

LayerGrads VulkanBackend::layerNormBackward(const Tensor& xIn, const Tensor& weightIn, const Tensor& meanIn,
                                            const Tensor& invStdIn, const Tensor& gradYIn, int64_t features,
                                            GradsWanted wanted) {
    refuseUnverifiable("layerNormBackward");
    const auto [wantX, wantWeight, wantBias] = wanted;
    const Tensor x = bindable(*this, xIn), mean = bindable(*this, meanIn), invStd = bindable(*this, invStdIn);
    const Tensor gradY = bindable(*this, gradYIn), weight = bindable(*this, weightIn);
    const k::LayerNormShape s{.rows = x.numel() / features, .features = features};
    s.validate();
    // The layer functions overwrite every output; zeros only where nothing will run.
    const bool nothing = x.numel() == 0;
    auto make = [&](const Shape& shape) { return nothing ? fill(shape, 0.0f) : empty(shape); };
    LayerGrads grads;
    if (wantX) grads.input = make(x.shape());
    if (wantWeight) grads.weight = make({features});
    if (wantBias) grads.bias = make({features});
    if (x.numel() == 0) return grads;
    layers::layerNormBackward(device(), recorder(), s, whole(*this, x), whole(*this, weight), whole(*this, mean),
                              whole(*this, invStd), whole(*this, gradY), whole(*this, grads.input),
                              whole(*this, grads.weight), whole(*this, grads.bias));
    return grads;
}

NormResult VulkanBackend::batchNorm(const Tensor& xIn, const Tensor& weightIn, const Tensor& biasIn,
                                    const Tensor& runningMean, const Tensor& runningVar, bool training, float momentum,
                                    float eps) {
    refuseUnverifiable("batchNorm");
    const Tensor x = bindable(*this, xIn), weight = bindable(*this, weightIn), bias = bindable(*this, biasIn);
    for (const Tensor* running : {&runningMean, &runningVar})
        RAVEN_ASSERT(!running->defined() || running->isContiguous(),
                     "batchNorm: running statistics must be contiguous");
    // Updated in place: a view that does not start its storage is updated through a copy, written back.
    const Tensor mean = bindable(*this, runningMean), var = bindable(*this, runningVar);
    const k::BatchNormShape s = batchNormShape(x, momentum, eps);
    s.validate(training);
    NormResult result{empty(x.shape()), empty({s.channels}), empty({s.channels})};
    if (x.numel() == 0) return result;
    layers::batchNormForward(device(), recorder(), s, training, whole(*this, x), whole(*this, weight),
                             whole(*this, bias), whole(*this, mean), whole(*this, var), whole(*this, result.y),
                             whole(*this, result.mean), whole(*this, result.invStd));
    if (training && mean.defined() && !mean.sharesStorageWith(runningMean)) copyInto(runningMean, mean);
    if (training && var.defined() && !var.sharesStorageWith(runningVar)) copyInto(runningVar, var);
    return result;
}

LayerGrads VulkanBackend::batchNormBackward(const Tensor& xIn, const Tensor& weightIn, const Tensor& meanIn,
                                            const Tensor& invStdIn, const Tensor& gradYIn, bool training,
                                            GradsWanted wanted) {
    refuseUnverifiable("batchNormBackward");
    const auto [wantX, wantWeight, wantBias] = wanted;
    const Tensor x = bindable(*this, xIn), mean = bindable(*this, meanIn), invStd = bindable(*this, invStdIn);
    const Tensor gradY = bindable(*this, gradYIn), weight = bindable(*this, weightIn);
    const k::BatchNormShape s = batchNormShape(x, 0.1f, 0.0f);
    s.validate(training);
    // The layer functions overwrite every output; zeros only where nothing will run.
    const bool nothing = x.numel() == 0;
    auto make = [&](const Shape& shape) { return nothing ? fill(shape, 0.0f) : empty(shape); };
    LayerGrads grads;
    if (wantX) grads.input = make(x.shape());
    if (wantWeight) grads.weight = make({s.channels});
    if (wantBias) grads.bias = make({s.channels});
    if (x.numel() == 0) return grads;
    layers::batchNormBackward(device(), recorder(), s, training, whole(*this, x), whole(*this, weight),
                              whole(*this, mean), whole(*this, invStd), whole(*this, gradY), whole(*this, grads.input),
                              whole(*this, grads.weight), whole(*this, grads.bias));
    return grads;
}

// --- embedding and dropout ---

Tensor VulkanBackend::embedding(const Tensor& indicesIn, const Tensor& weightIn) {
    refuseUnverifiable("embedding");
    RAVEN_ASSERT(weightIn.dim() == 2, "embedding: weight must be [vocabulary, dim]");
    const Tensor weight = bindable(*this, weightIn), indices = bindable(*this, indicesIn);
    const k::EmbeddingShape s{.vocabulary = weight.size(0), .dim = weight.size(1), .count = indices.numel()};
    checkIndices(*this, indices, s.vocabulary, "embedding");
    Shape outShape = indicesIn.shape();
    outShape.push_back(s.dim);
    Tensor y = empty(outShape);
    if (y.numel() == 0) return y;
    layers::embeddingForward(device(), recorder(), s, whole(*this, indices), whole(*this, weight), whole(*this, y));
    return y;
}

Tensor VulkanBackend::embeddingBackward(const Tensor& indicesIn, const Tensor& gradYIn, int64_t vocabulary,
                                        int64_t paddingIndex) {
    refuseUnverifiable("embeddingBackward");
    const Tensor gradY = bindable(*this, gradYIn), indices = bindable(*this, indicesIn);
    const k::EmbeddingShape s{
        .vocabulary = vocabulary, .dim = gradY.size(-1), .count = indices.numel(), .paddingIndex = paddingIndex};
    checkIndices(*this, indices, vocabulary, "embeddingBackward");
    // The layer functions overwrite every output; zeros only where nothing will run.
    const bool nothing = gradY.numel() == 0;
    auto make = [&](const Shape& shape) { return nothing ? fill(shape, 0.0f) : empty(shape); };
    Tensor dweight = make({vocabulary, s.dim});
    if (gradY.numel() == 0 || dweight.numel() == 0) return dweight;
    layers::embeddingBackward(device(), recorder(), s, whole(*this, indices), whole(*this, gradY),
                              whole(*this, dweight));
    return dweight;
}

Tensor VulkanBackend::dropout(const Tensor& xIn, float p, uint64_t seed, uint64_t offset) {
    refuseUnverifiable("dropout");
    const Tensor x = bindable(*this, xIn);
    const k::DropoutShape s{.count = x.numel(), .p = p, .seed = seed, .offset = offset};
    s.validate();
    Tensor y = empty(x.shape());
    if (s.count > 0) layers::dropoutForward(device(), recorder(), s, whole(*this, x), whole(*this, y));
    return y;
}

// --- attention ---

AttentionResult VulkanBackend::attention(const Tensor& qIn, const Tensor& kIn, const Tensor& vIn, bool causal,
                                         float scale) {
    refuseUnverifiable("attention");
    const Tensor q = bindable(*this, qIn), key = bindable(*this, kIn), v = bindable(*this, vIn);
    const k::AttentionShape s = attentionShape(q, key, v, causal, scale);
    s.validate();
    AttentionResult result{empty({s.batch, s.heads, s.queryLength, s.valueDim}),
                           empty({s.batch, s.heads, s.queryLength, s.keyLength})};
    if (result.probs.numel() == 0 || result.out.numel() == 0) return result;
    layers::attentionForward(device(), recorder(), s, whole(*this, q), whole(*this, key), whole(*this, v),
                             whole(*this, result.out), whole(*this, result.probs));
    return result;
}

AttentionGrads VulkanBackend::attentionBackward(const Tensor& qIn, const Tensor& kIn, const Tensor& vIn,
                                                const Tensor& probsIn, const Tensor& gradOutIn, bool causal,
                                                float scale, GradsWanted wanted) {
    refuseUnverifiable("attentionBackward");
    const auto [wantQ, wantK, wantV] = wanted;
    const Tensor q = bindable(*this, qIn), key = bindable(*this, kIn), v = bindable(*this, vIn);
    const Tensor probs = bindable(*this, probsIn), gradOut = bindable(*this, gradOutIn);
    const k::AttentionShape s = attentionShape(q, key, v, causal, scale);
    s.validate();
    // The layer functions overwrite every output; zeros only where nothing will run.
    const bool nothing = probs.numel() == 0 || gradOut.numel() == 0;
    auto make = [&](const Shape& shape) { return nothing ? fill(shape, 0.0f) : empty(shape); };
    AttentionGrads grads;
    if (wantQ) grads.query = make(q.shape());
    if (wantK) grads.key = make(key.shape());
    if (wantV) grads.value = make(v.shape());
    if (probs.numel() == 0 || gradOut.numel() == 0) return grads;
    Tensor scratch;
    if (wantQ || wantK) scratch = empty({static_cast<int64_t>(layers::attentionBackwardScratchFloats(s))});
    layers::attentionBackward(device(), recorder(), s, whole(*this, q), whole(*this, key), whole(*this, v),
                              whole(*this, probs), whole(*this, gradOut), whole(*this, grads.query),
                              whole(*this, grads.key), whole(*this, grads.value), whole(*this, scratch));
    return grads;
}

}  // namespace raven
