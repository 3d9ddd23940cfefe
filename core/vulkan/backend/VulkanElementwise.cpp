// Elementwise kernels: compute-shaders/elementwise_unary.comp (unary and scalar ops) and
// elementwise_binary.comp, one pipeline per op (the op is a specialization constant). Inputs of any
// strides are read in place; the output is contiguous. Operands larger than one binding are bound in
// windows, the view cut along its outer dimensions (BindingWindow.h). Runs of consecutive, aligned
// elements take the shaders' VEC4 path: four elements per invocation, the same arithmetic per element.
#include "vulkan/backend/VulkanBackend.h"

#include "base/Error.h"
#include "vulkan/backend/BindingWindow.h"
#include "vulkan/backend/StridedLayout.h"

#include <algorithm>

namespace raven {

using vulkan::Access;
using vulkan::Recorder;

namespace {

struct UnaryPush {
    uint32_t n, rank, yOffset, xOffset;
    float s;
    uint32_t shape[vkb::kMaxRank];
    uint32_t xStride[vkb::kMaxRank];
    uint32_t yStride[vkb::kMaxRank];  // a tile of the output (cut to fit a binding window)
};

struct BinaryPush {
    uint32_t n, rank, cOffset, aOffset, bOffset;
    uint32_t shape[vkb::kMaxRank];
    uint32_t aStride[vkb::kMaxRank];
    uint32_t bStride[vkb::kMaxRank];
    uint32_t cStride[vkb::kMaxRank];  // a tile of the output (cut to fit a binding window)
};

// The shader's numbering: UnaryOp in order, then the scalar ops.
constexpr uint32_t kScalarBase = 10;
static_assert(static_cast<uint32_t>(UnaryOp::GeluErf) + 1 == kScalarBase, "elementwise_unary.comp numbers the ops");
static_assert(static_cast<uint32_t>(BinaryOp::GeluErfBackward) == 11, "elementwise_binary.comp numbers the ops");

const char* scalarOpName(ScalarOp op) {
    switch (op) {
        case ScalarOp::Add:
            return "add_scalar";
        case ScalarOp::Mul:
            return "mul_scalar";
        case ScalarOp::Pow:
            return "pow_scalar";
    }
    return "scalar";
}

Tensor runUnary(VulkanBackend& backend, uint32_t op, const char* kind, const Tensor& x, float s) {
    Tensor out = backend.empty(x.shape());
    if (out.numel() == 0) return out;
    const uint32_t local = backend.elementwiseWorkgroupSize();
    const auto layout = vkb::coalesce<2>(out.shape(), {&out.strides(), &x.strides()});
    const vkb::BindingWindows windows(backend.device());
    const vulkan::BufferRange &yStorage = backend.rangeOf(out), &xStorage = backend.rangeOf(x);
    const std::array<bool, 2> windowed{!windows.fitsWhole(yStorage), !windows.fitsWhole(xStorage)};
    vkb::forEachBlock(layout, [&](const vkb::StridedBlock<2>& block) {
        vkb::splitToFit(block, windowed, windows.capacity(), [&](const vkb::StridedBlock<2>& part) {
            const int64_t yFirst = part.offsets[0], xFirst = x.offset() + part.offsets[1];
            const vkb::BindingWindow yw = windows.over(yStorage, yFirst, vkb::reachOf(part, 0));
            const vkb::BindingWindow xw = windows.over(xStorage, xFirst, vkb::reachOf(part, 1));
            UnaryPush push{};
            push.n = part.count;
            push.rank = part.rank;
            push.yOffset = vkb::narrowToU32(yFirst - yw.start);
            push.xOffset = vkb::narrowToU32(xFirst - xw.start);
            push.s = s;
            std::copy_n(part.shape.begin(), vkb::kMaxRank, push.shape);
            std::copy_n(part.strides[1].begin(), vkb::kMaxRank, push.xStride);
            std::copy_n(part.strides[0].begin(), vkb::kMaxRank, push.yStride);
            const bool vec4 = vkb::isVectorRun(part, {int64_t{push.yOffset}, int64_t{push.xOffset}});
            const uint32_t strided = vkb::isDense(part, 0) ? 0 : 1;
            const vulkan::Pipeline& pipeline =
                backend.pipeline({"elementwise_unary", 2, sizeof(UnaryPush), {local, op, strided, vec4 ? 1u : 0u}});
            backend.recorder().describeNext(kind, static_cast<double>(part.count), 8.0 * part.count);
            backend.recorder().dispatch(pipeline, {{xw.range, Access::Read}, {yw.range, Access::Write}}, push,
                                        Recorder::groupsFor(vec4 ? (part.count + 3) / 4 : part.count, local));
        });
    });
    return out;
}

}  // namespace

Tensor VulkanBackend::unary(UnaryOp op, const Tensor& x) {
    if (kernelMode_ == KernelMode::Verifiable) return verifiableElementwise(static_cast<uint32_t>(op), 0.0f, x, Tensor());
    return runUnary(*this, static_cast<uint32_t>(op), unaryOpName(op), x, 0.0f);
}

Tensor VulkanBackend::scalar(ScalarOp op, const Tensor& x, float s) {
    if (kernelMode_ == KernelMode::Verifiable) return verifiableElementwise(100 + static_cast<uint32_t>(op), s, x, Tensor());
    return runUnary(*this, kScalarBase + static_cast<uint32_t>(op), scalarOpName(op), x, s);
}

Tensor VulkanBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b) {
    if (kernelMode_ == KernelMode::Verifiable) return verifiableElementwise(200 + static_cast<uint32_t>(op), 0.0f, a, b);
    RAVEN_ASSERT(a.shape() == b.shape(), "VulkanBackend::binary: shapes differ");
    Tensor out = empty(a.shape());
    if (out.numel() == 0) return out;
    const uint32_t local = elementwiseWorkgroupSize();
    const auto layout = vkb::coalesce<3>(out.shape(), {&out.strides(), &a.strides(), &b.strides()});
    const vkb::BindingWindows windows(device());
    const vulkan::BufferRange &cStorage = rangeOf(out), &aStorage = rangeOf(a), &bStorage = rangeOf(b);
    const std::array<bool, 3> windowed{!windows.fitsWhole(cStorage), !windows.fitsWhole(aStorage),
                                       !windows.fitsWhole(bStorage)};
    vkb::forEachBlock(layout, [&](const vkb::StridedBlock<3>& block) {
        vkb::splitToFit(block, windowed, windows.capacity(), [&](const vkb::StridedBlock<3>& part) {
            const int64_t cFirst = part.offsets[0], aFirst = a.offset() + part.offsets[1],
                          bFirst = b.offset() + part.offsets[2];
            const vkb::BindingWindow cw = windows.over(cStorage, cFirst, vkb::reachOf(part, 0));
            const vkb::BindingWindow aw = windows.over(aStorage, aFirst, vkb::reachOf(part, 1));
            const vkb::BindingWindow bw = windows.over(bStorage, bFirst, vkb::reachOf(part, 2));
            BinaryPush push{};
            push.n = part.count;
            push.rank = part.rank;
            push.cOffset = vkb::narrowToU32(cFirst - cw.start);
            push.aOffset = vkb::narrowToU32(aFirst - aw.start);
            push.bOffset = vkb::narrowToU32(bFirst - bw.start);
            std::copy_n(part.shape.begin(), vkb::kMaxRank, push.shape);
            std::copy_n(part.strides[1].begin(), vkb::kMaxRank, push.aStride);
            std::copy_n(part.strides[2].begin(), vkb::kMaxRank, push.bStride);
            std::copy_n(part.strides[0].begin(), vkb::kMaxRank, push.cStride);
            const bool vec4 =
                vkb::isVectorRun(part, {int64_t{push.cOffset}, int64_t{push.aOffset}, int64_t{push.bOffset}});
            const uint32_t strided = vkb::isDense(part, 0) ? 0 : 1;
            const vulkan::Pipeline& kernel = pipeline({"elementwise_binary",
                                                       3,
                                                       sizeof(BinaryPush),
                                                       {local, static_cast<uint32_t>(op), strided, vec4 ? 1u : 0u}});
            recorder().describeNext(binaryOpName(op), static_cast<double>(part.count), 12.0 * part.count);
            recorder().dispatch(kernel, {{aw.range, Access::Read}, {bw.range, Access::Read}, {cw.range, Access::Write}},
                                push, Recorder::groupsFor(vec4 ? (part.count + 3) / 4 : part.count, local));
        });
    });
    return out;
}

}  // namespace raven
