// Softmax, log-softmax (and their gradients) along the last axis, and cross-entropy with label
// smoothing: compute-shaders/softmax_rows.comp, softmax_backward.comp and cross_entropy.comp, one
// workgroup per row of a contiguous copy.
#include "vulkan/backend/StridedLayout.h"
#include "vulkan/backend/VulkanBackend.h"

#include "base/Error.h"

#include <cstring>

namespace raven {

using vulkan::Access;
using vulkan::Recorder;

namespace {

struct SoftmaxPush {
    uint32_t cols, xOffset, yOffset;
};

struct SoftmaxBackwardPush {
    uint32_t cols, yOffset, gOffset, dxOffset;
};

struct CrossEntropyPush {
    uint32_t cols, xOffset, tOffset, gOffset, outOffset;
    float smoothing, smoothPerClass;
};

Tensor dense(VulkanBackend& backend, const Tensor& t) { return t.isContiguous() ? t : backend.contiguousCopy(t); }

int64_t lastAxis(const Tensor& t) { return t.dim() == 0 ? 1 : t.size(-1); }

Tensor softmaxRows(VulkanBackend& backend, const Tensor& xIn, uint32_t log) {
    const Tensor x = dense(backend, xIn);
    Tensor out = backend.empty(x.shape());
    if (x.numel() == 0) return out;
    const int64_t cols = lastAxis(x), rows = x.numel() / cols;
    const vulkan::Pipeline& pipeline = backend.pipeline({"softmax_rows", 2, sizeof(SoftmaxPush), {log}});
    const SoftmaxPush push{vkb::narrowToU32(cols), vkb::narrowToU32(x.offset()), 0};
    backend.recorder().dispatch(pipeline, {{backend.rangeOf(x), Access::Read}, {backend.rangeOf(out), Access::Write}},
                                push, Recorder::groupsFor(static_cast<uint64_t>(rows), 1));
    return out;
}

Tensor softmaxBackwardRows(VulkanBackend& backend, const Tensor& yIn, const Tensor& gIn, uint32_t log) {
    RAVEN_ASSERT(yIn.shape() == gIn.shape(), "softmax backward: shapes differ");
    const Tensor y = dense(backend, yIn), g = dense(backend, gIn);
    Tensor out = backend.empty(y.shape());
    if (y.numel() == 0) return out;
    const int64_t cols = lastAxis(y), rows = y.numel() / cols;
    const vulkan::Pipeline& pipeline = backend.pipeline({"softmax_backward", 3, sizeof(SoftmaxBackwardPush), {log}});
    const SoftmaxBackwardPush push{vkb::narrowToU32(cols), vkb::narrowToU32(y.offset()), vkb::narrowToU32(g.offset()),
                                   0};
    backend.recorder().dispatch(
        pipeline,
        {{backend.rangeOf(y), Access::Read}, {backend.rangeOf(g), Access::Read}, {backend.rangeOf(out), Access::Write}},
        push, Recorder::groupsFor(static_cast<uint64_t>(rows), 1));
    return out;
}

// mode 0: the per-sample loss [N]; mode 1: dL/dlogits [N, C] (gradLoss defined).
Tensor crossEntropyRows(VulkanBackend& backend, const Tensor& logitsIn, const Tensor& targetsIn, const Tensor& gradIn,
                        float smoothing, uint32_t mode) {
    const Tensor x = dense(backend, logitsIn), t = dense(backend, targetsIn);
    const Tensor g = gradIn.defined() ? dense(backend, gradIn) : t;
    const int64_t n = x.size(0), c = x.size(1);
    Tensor out = backend.empty(mode == 0 ? Shape{n} : x.shape());
    if (n == 0) return out;
    RAVEN_CHECK(c > 0, "crossEntropy: logits " + shapeToString(x.shape()) + " have no classes", "");
    const char* op = mode == 0 ? "crossEntropy" : "crossEntropyBackward";
    const vulkan::BufferRange status = backend.statusWord([op, c](uint32_t sample) {
        return std::string(op) + " (Vulkan): the target of sample " + std::to_string(sample) +
               " is not a class index in [0, " + std::to_string(c) + ")";
    });
    const vulkan::Pipeline& pipeline = backend.pipeline({"cross_entropy", 5, sizeof(CrossEntropyPush), {mode}});
    const CrossEntropyPush push{vkb::narrowToU32(c),
                                vkb::narrowToU32(x.offset()),
                                vkb::narrowToU32(t.offset()),
                                vkb::narrowToU32(g.offset()),
                                0,
                                smoothing,
                                smoothing / static_cast<float>(c)};
    backend.recorder().dispatch(pipeline,
                                {{backend.rangeOf(x), Access::Read},
                                 {backend.rangeOf(t), Access::Read},
                                 {backend.rangeOf(g), Access::Read},
                                 {backend.rangeOf(out), Access::Write},
                                 {status, Access::ReadWrite}},
                                push, Recorder::groupsFor(static_cast<uint64_t>(n), 1));
    return out;
}

}  // namespace

Tensor VulkanBackend::softmax(const Tensor& x) { return softmaxRows(*this, x, 0); }
Tensor VulkanBackend::logSoftmax(const Tensor& x) { return softmaxRows(*this, x, 1); }

Tensor VulkanBackend::softmaxBackward(const Tensor& y, const Tensor& gradY) {
    return softmaxBackwardRows(*this, y, gradY, 0);
}

Tensor VulkanBackend::logSoftmaxBackward(const Tensor& y, const Tensor& gradY) {
    return softmaxBackwardRows(*this, y, gradY, 1);
}

Tensor VulkanBackend::crossEntropy(const Tensor& logits, const Tensor& targets, float labelSmoothing) {
    return crossEntropyRows(*this, logits, targets, Tensor(), labelSmoothing, 0);
}

Tensor VulkanBackend::crossEntropyBackward(const Tensor& logits, const Tensor& targets, const Tensor& gradLoss,
                                           float labelSmoothing) {
    return crossEntropyRows(*this, logits, targets, gradLoss, labelSmoothing, 1);
}

}  // namespace raven
