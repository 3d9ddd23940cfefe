// Elementwise kernels: compute-shaders/elementwise_unary.comp (unary and scalar ops) and
// elementwise_binary.comp, one pipeline per op (the op is a specialization constant). Inputs of any
// strides are read in place; the output is contiguous.
#include "vulkan/backend/VulkanBackend.h"

#include "base/Error.h"
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
};

struct BinaryPush {
    uint32_t n, rank, cOffset, aOffset, bOffset;
    uint32_t shape[vkb::kMaxRank];
    uint32_t aStride[vkb::kMaxRank];
    uint32_t bStride[vkb::kMaxRank];
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
    const vulkan::Pipeline& pipeline = backend.pipeline({"elementwise_unary", 2, sizeof(UnaryPush), {local, op}});
    const auto layout = vkb::coalesce<2>(out.shape(), {&out.strides(), &x.strides()});
    vkb::forEachBlock(layout, [&](const vkb::StridedBlock<2>& block) {
        UnaryPush push{};
        push.n = block.count;
        push.rank = block.rank;
        push.yOffset = vkb::narrowToU32(block.offsets[0]);
        push.xOffset = vkb::narrowToU32(x.offset() + block.offsets[1]);
        push.s = s;
        std::copy_n(block.shape.begin(), vkb::kMaxRank, push.shape);
        std::copy_n(block.strides[1].begin(), vkb::kMaxRank, push.xStride);
        backend.recorder().describeNext(kind, static_cast<double>(block.count), 8.0 * block.count);
        backend.recorder().dispatch(pipeline,
                                    {{backend.rangeOf(x), Access::Read}, {backend.rangeOf(out), Access::Write}}, push,
                                    Recorder::groupsFor(block.count, local));
    });
    return out;
}

}  // namespace

Tensor VulkanBackend::unary(UnaryOp op, const Tensor& x) {
    return runUnary(*this, static_cast<uint32_t>(op), unaryOpName(op), x, 0.0f);
}

Tensor VulkanBackend::scalar(ScalarOp op, const Tensor& x, float s) {
    return runUnary(*this, kScalarBase + static_cast<uint32_t>(op), scalarOpName(op), x, s);
}

Tensor VulkanBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b) {
    RAVEN_ASSERT(a.shape() == b.shape(), "VulkanBackend::binary: shapes differ");
    Tensor out = empty(a.shape());
    if (out.numel() == 0) return out;
    const uint32_t local = elementwiseWorkgroupSize();
    const vulkan::Pipeline& kernel =
        pipeline({"elementwise_binary", 3, sizeof(BinaryPush), {local, static_cast<uint32_t>(op)}});
    const auto layout = vkb::coalesce<3>(out.shape(), {&out.strides(), &a.strides(), &b.strides()});
    vkb::forEachBlock(layout, [&](const vkb::StridedBlock<3>& block) {
        BinaryPush push{};
        push.n = block.count;
        push.rank = block.rank;
        push.cOffset = vkb::narrowToU32(block.offsets[0]);
        push.aOffset = vkb::narrowToU32(a.offset() + block.offsets[1]);
        push.bOffset = vkb::narrowToU32(b.offset() + block.offsets[2]);
        std::copy_n(block.shape.begin(), vkb::kMaxRank, push.shape);
        std::copy_n(block.strides[1].begin(), vkb::kMaxRank, push.aStride);
        std::copy_n(block.strides[2].begin(), vkb::kMaxRank, push.bStride);
        recorder().describeNext(binaryOpName(op), static_cast<double>(block.count), 12.0 * block.count);
        recorder().dispatch(kernel,
                            {{rangeOf(a), Access::Read}, {rangeOf(b), Access::Read}, {rangeOf(out), Access::Write}},
                            push, Recorder::groupsFor(block.count, local));
    });
    return out;
}

}  // namespace raven
