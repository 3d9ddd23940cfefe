// The verifiable kernel mode's reductions (verifiable_reduce.comp) and row kernels: softmax,
// log-softmax, their gradients and cross-entropy (verifiable_rows.comp). Each is the twin of its CPU
// kernel (CpuReduce.cpp, CpuSoftmax.cpp) with one invocation per output or per row, so that every sum
// is taken in the CPU's order and the results are the CPU verifiable kernels' bits. Operands larger
// than one storage binding are refused with an error (the fast kernels' windows would split a row's or
// an output's sum between dispatches only where the order allows it; these keep it whole).
#include "vulkan/backend/BindingWindow.h"
#include "vulkan/backend/VulkanBackend.h"

#include "base/Error.h"

#include <algorithm>

namespace raven {

using vulkan::Access;

namespace {

struct VerifiableReducePush {
    uint32_t outputs, reduced, inner, xOffset, yOffset, outerStride, innerStride, reducedStride;
};

struct VerifiableRowsPush {
    uint32_t rows, cols, aOffset, gOffset, tOffset, oOffset;
    float labelSmoothing;
};

const char* rowsOpName(uint32_t mode) {
    static const char* names[] = {"softmax",      "logSoftmax",          "softmaxBackward", "logSoftmaxBackward",
                                  "crossEntropy", "crossEntropyBackward"};
    return names[mode];
}

}  // namespace

// The CPU's choice of loop nest (CpuReduce.cpp's runReduce), so that the reduced elements of each output
// are visited in the same row-major order: [A, R, C] read in place when x is contiguous and the reduced
// axes are one run followed by C > 1 elements, else the kept axes first and the reduced ones last
// (a contiguous copy when the view is not already one: exact).
Tensor VulkanBackend::verifiableReduce(ReduceOp op, const Tensor& x, const std::vector<int>& axes,
                                       const Shape& outShape) {
    requireVerifiableDevice();
    Tensor out = empty(outShape);
    const int64_t rank = x.dim();
    std::vector<bool> reduced(static_cast<size_t>(rank), false);
    for (int a : axes) reduced[static_cast<size_t>(a)] = true;
    int64_t outCount = 1, r = 1;
    for (int64_t d = 0; d < rank; ++d)
        (reduced[static_cast<size_t>(d)] ? r : outCount) *= x.shape()[static_cast<size_t>(d)];
    if (outCount == 0) return out;

    const bool run = axes.back() - axes.front() + 1 == static_cast<int>(axes.size());
    int64_t c = 1;
    for (int64_t d = axes.back() + 1; d < rank; ++d) c *= x.shape()[static_cast<size_t>(d)];
    Tensor src = x;
    VerifiableReducePush push{};
    if (x.isContiguous() && run && c > 1) {
        push.inner = vkb::narrowToU32(c);
        push.outerStride = vkb::narrowToU32(r * c);
        push.innerStride = 1;
        push.reducedStride = vkb::narrowToU32(c);
    } else {
        std::vector<int64_t> order;
        for (int64_t d = 0; d < rank; ++d)
            if (!reduced[static_cast<size_t>(d)]) order.push_back(d);
        for (int a : axes) order.push_back(a);
        src = x.permute(order);
        if (!src.isContiguous()) src = contiguousCopy(src);
        push.inner = 1;
        push.outerStride = vkb::narrowToU32(r);
        push.innerStride = 0;
        push.reducedStride = 1;
    }
    const vkb::BindingWindows windows(*device_);
    for (const Tensor* t : std::initializer_list<const Tensor*>{&src, &out})
        if (!windows.fitsWhole(rangeOf(*t)))
            fail("a verifiable reduction's operand of " + std::to_string(t->numel()) +
                     " floats is larger than one storage binding on " + device_->info().name,
                 "use smaller layers or batches, or compute verifiable units on the CPU backend");
    push.outputs = vkb::narrowToU32(outCount);
    push.reduced = vkb::narrowToU32(r);
    push.xOffset = vkb::narrowToU32(src.offset());
    push.yOffset = vkb::narrowToU32(out.offset());
    const std::uint32_t local = elementwiseWorkgroupSize();
    const vulkan::Pipeline& kernel =
        pipeline({"verifiable_reduce", 2, sizeof(VerifiableReducePush), {local, op == ReduceOp::Sum ? 0u : 1u}});
    recorder_->describeNext("verifiable_reduce", static_cast<double>(x.numel()),
                            4.0 * static_cast<double>(x.numel() + outCount));
    recorder_->dispatch(kernel, {{rangeOf(src), Access::Read}, {rangeOf(out), Access::Write}}, push,
                        vulkan::Recorder::groupsFor(static_cast<std::uint64_t>(outCount), local));
    return out;
}

// verifiable_rows.comp over contiguous operands (views copied first: exact): one invocation per row of
// a [rows, cols] (softmax family: cols the last axis) or of the logits [N, C] (cross-entropy).
Tensor VulkanBackend::verifiableRows(uint32_t mode, const Tensor& aIn, const Tensor& gIn, const Tensor& tIn,
                                     float labelSmoothing) {
    requireVerifiableDevice();
    const char* op = rowsOpName(mode);
    const bool loss = mode >= 4;
    const auto dense = [this](const Tensor& t) { return !t.defined() || t.isContiguous() ? t : contiguousCopy(t); };
    const Tensor a = dense(aIn), g = dense(gIn), targets = dense(tIn);
    if (mode == 2 || mode == 3) RAVEN_ASSERT(g.shape() == a.shape(), std::string(op) + ": shapes differ");
    const int64_t cols = loss ? a.size(1) : (a.dim() == 0 ? 1 : a.size(-1));
    const int64_t rows = loss ? a.size(0) : (cols == 0 ? 0 : a.numel() / cols);
    Tensor out = empty(mode == 4 ? Shape{rows} : a.shape());
    if (loss && rows > 0)
        RAVEN_CHECK(cols > 0, "crossEntropy: logits " + shapeToString(a.shape()) + " have no classes", "");
    if (out.numel() == 0 || rows == 0) return out;
    const vkb::BindingWindows windows(*device_);
    for (const Tensor* t : std::initializer_list<const Tensor*>{&a, &g, &targets, &out})
        if (t->defined() && !windows.fitsWhole(rangeOf(*t)))
            fail(std::string("a verifiable ") + op + " operand of " + std::to_string(t->numel()) +
                     " floats is larger than one storage binding on " + device_->info().name,
                 "use smaller batches, or compute verifiable units on the CPU backend");
    // Only the losses read targets and report bad ones; the other modes bind a there and never touch it.
    vulkan::BufferRange status = rangeOf(a);
    if (loss)
        status = statusWord([op, cols](std::uint32_t sample) {
            return std::string(op) + " (Vulkan, verifiable): the target of sample " + std::to_string(sample) +
                   " is not a class index in [0, " + std::to_string(cols) + ")";
        });
    VerifiableRowsPush push{};
    push.rows = vkb::narrowToU32(rows);
    push.cols = vkb::narrowToU32(cols);
    push.aOffset = vkb::narrowToU32(a.offset());
    push.gOffset = g.defined() ? vkb::narrowToU32(g.offset()) : 0;
    push.tOffset = targets.defined() ? vkb::narrowToU32(targets.offset()) : 0;
    push.oOffset = vkb::narrowToU32(out.offset());
    push.labelSmoothing = labelSmoothing;
    const std::uint32_t local = elementwiseWorkgroupSize();
    const vulkan::Pipeline& kernel = pipeline({"verifiable_rows", 5, sizeof(VerifiableRowsPush), {local, mode}});
    const double n = static_cast<double>(rows) * static_cast<double>(cols);
    recorder_->describeNext(std::string("verifiable_") + op, 4.0 * n, 12.0 * n);
    recorder_->dispatch(kernel,
                        {{rangeOf(a), Access::Read},
                         {g.defined() ? rangeOf(g) : rangeOf(a), Access::Read},
                         {targets.defined() ? rangeOf(targets) : rangeOf(a), Access::Read},
                         {rangeOf(out), Access::ReadWrite},
                         {status, loss ? Access::ReadWrite : Access::Read}},
                        push, vulkan::Recorder::groupsFor(static_cast<std::uint64_t>(rows), local));
    return out;
}

}  // namespace raven
