// Softmax, log-softmax (and their gradients) along the last axis, and cross-entropy with label
// smoothing: compute-shaders/softmax_rows.comp, softmax_backward.comp and cross_entropy.comp, one
// workgroup per row of a contiguous copy. Operands larger than one binding are bound in windows of
// whole rows (BindingWindow.h); a single row must fit one binding. The verifiable mode runs
// verifiable_rows.comp instead (VulkanVerifiableRows.cpp).
#include "vulkan/backend/BindingWindow.h"
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
    uint32_t rowBase;
};

// Calls fn(firstRow, rowCount) for runs of rows such that every operand (at most `cols` floats per row)
// fits one binding window: all rows at once when every operand fits one binding.
template <class Fn>
void forRowRuns(VulkanBackend& backend, int64_t rows, int64_t cols, std::initializer_list<const Tensor*> operands,
                const char* op, Fn fn) {
    const vkb::BindingWindows windows(backend.device());
    bool whole = true;
    for (const Tensor* t : operands) whole = whole && windows.fitsWhole(backend.rangeOf(*t));
    if (whole) {
        fn(int64_t{0}, rows);
        return;
    }
    RAVEN_CHECK(cols <= windows.capacity(),
                std::string(op) + " (Vulkan): a row of " + std::to_string(cols) +
                    " floats is larger than one storage-buffer binding of " + backend.device().info().name,
                "split the last axis, or use the CPU backend");
    const int64_t perRun = windows.capacity() / cols;
    for (int64_t first = 0; first < rows; first += perRun) fn(first, std::min(perRun, rows - first));
}

// The binding of rows [first, first + count) of a contiguous tensor with `cols` floats per row, and the
// element offset of its first row in that binding.
std::pair<vulkan::BufferRange, uint32_t> rowsOf(VulkanBackend& backend, const Tensor& t, int64_t first, int64_t count,
                                                int64_t cols) {
    const vkb::BindingWindows windows(backend.device());
    const int64_t begin = t.offset() + first * cols;
    const vkb::BindingWindow w = windows.over(backend.rangeOf(t), begin, std::max<int64_t>(count * cols, 1));
    return {w.range, vkb::narrowToU32(begin - w.start)};
}

Tensor dense(VulkanBackend& backend, const Tensor& t) { return t.isContiguous() ? t : backend.contiguousCopy(t); }

int64_t lastAxis(const Tensor& t) { return t.dim() == 0 ? 1 : t.size(-1); }

Tensor softmaxRows(VulkanBackend& backend, const Tensor& xIn, uint32_t log) {
    const Tensor x = dense(backend, xIn);
    Tensor out = backend.empty(x.shape());
    if (x.numel() == 0) return out;
    const int64_t cols = lastAxis(x), rows = x.numel() / cols;
    const vulkan::Pipeline& pipeline = backend.pipeline({"softmax_rows", 2, sizeof(SoftmaxPush), {log}});
    forRowRuns(backend, rows, cols, {&x, &out}, "softmax", [&](int64_t first, int64_t count) {
        const auto [xr, xo] = rowsOf(backend, x, first, count, cols);
        const auto [yr, yo] = rowsOf(backend, out, first, count, cols);
        const SoftmaxPush push{vkb::narrowToU32(cols), xo, yo};
        backend.recorder().dispatch(pipeline, {{xr, Access::Read}, {yr, Access::Write}}, push,
                                    Recorder::groupsFor(static_cast<uint64_t>(count), 1));
    });
    return out;
}

Tensor softmaxBackwardRows(VulkanBackend& backend, const Tensor& yIn, const Tensor& gIn, uint32_t log) {
    RAVEN_ASSERT(yIn.shape() == gIn.shape(), "softmax backward: shapes differ");
    const Tensor y = dense(backend, yIn), g = dense(backend, gIn);
    Tensor out = backend.empty(y.shape());
    if (y.numel() == 0) return out;
    const int64_t cols = lastAxis(y), rows = y.numel() / cols;
    const vulkan::Pipeline& pipeline = backend.pipeline({"softmax_backward", 3, sizeof(SoftmaxBackwardPush), {log}});
    forRowRuns(backend, rows, cols, {&y, &g, &out}, "softmax backward", [&](int64_t first, int64_t count) {
        const auto [yr, yo] = rowsOf(backend, y, first, count, cols);
        const auto [gr, go] = rowsOf(backend, g, first, count, cols);
        const auto [dr, dxo] = rowsOf(backend, out, first, count, cols);
        const SoftmaxBackwardPush push{vkb::narrowToU32(cols), yo, go, dxo};
        backend.recorder().dispatch(pipeline, {{yr, Access::Read}, {gr, Access::Read}, {dr, Access::Write}}, push,
                                    Recorder::groupsFor(static_cast<uint64_t>(count), 1));
    });
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
    const int64_t outCols = mode == 0 ? 1 : c;
    forRowRuns(backend, n, c, {&x, &t, &g, &out}, op, [&](int64_t first, int64_t count) {
        const auto [xr, xo] = rowsOf(backend, x, first, count, c);
        const auto [tr, to] = rowsOf(backend, t, first, count, 1);
        const auto [gr, go] = rowsOf(backend, g, first, count, 1);
        const auto [orr, oo] = rowsOf(backend, out, first, count, outCols);
        const CrossEntropyPush push{
            vkb::narrowToU32(c), xo, to, go, oo, smoothing, smoothing / static_cast<float>(c), vkb::narrowToU32(first)};
        backend.recorder().dispatch(pipeline,
                                    {{xr, Access::Read},
                                     {tr, Access::Read},
                                     {gr, Access::Read},
                                     {orr, Access::Write},
                                     {status, Access::ReadWrite}},
                                    push, Recorder::groupsFor(static_cast<uint64_t>(count), 1));
    });
    return out;
}

}  // namespace

Tensor VulkanBackend::softmax(const Tensor& x) {
    if (kernelMode_ == KernelMode::Verifiable) return verifiableRows(0, x, Tensor(), Tensor(), 0.0f);
    return softmaxRows(*this, x, 0);
}
Tensor VulkanBackend::logSoftmax(const Tensor& x) {
    if (kernelMode_ == KernelMode::Verifiable) return verifiableRows(1, x, Tensor(), Tensor(), 0.0f);
    return softmaxRows(*this, x, 1);
}

Tensor VulkanBackend::softmaxBackward(const Tensor& y, const Tensor& gradY) {
    if (kernelMode_ == KernelMode::Verifiable) return verifiableRows(2, y, gradY, Tensor(), 0.0f);
    return softmaxBackwardRows(*this, y, gradY, 0);
}

Tensor VulkanBackend::logSoftmaxBackward(const Tensor& y, const Tensor& gradY) {
    if (kernelMode_ == KernelMode::Verifiable) return verifiableRows(3, y, gradY, Tensor(), 0.0f);
    return softmaxBackwardRows(*this, y, gradY, 1);
}

Tensor VulkanBackend::crossEntropy(const Tensor& logits, const Tensor& targets, float labelSmoothing) {
    if (kernelMode_ == KernelMode::Verifiable) return verifiableRows(4, logits, Tensor(), targets, labelSmoothing);
    return crossEntropyRows(*this, logits, targets, Tensor(), labelSmoothing, 0);
}

Tensor VulkanBackend::crossEntropyBackward(const Tensor& logits, const Tensor& targets, const Tensor& gradLoss,
                                           float labelSmoothing) {
    if (kernelMode_ == KernelMode::Verifiable) return verifiableRows(5, logits, gradLoss, targets, labelSmoothing);
    return crossEntropyRows(*this, logits, targets, gradLoss, labelSmoothing, 1);
}

}  // namespace raven
