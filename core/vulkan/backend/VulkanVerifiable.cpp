// The verifiable kernel mode on Vulkan (tensor/KernelMode.h, docs/verification.md): which kernels have
// a verifiable shader, the device gate that must pass before any of them runs, the product
// (verifiable_gemm.comp) and the elementwise kernels (verifiable_elementwise.comp); Adam
// (verifiable_adam.comp) is dispatched by VulkanOptim.cpp.
//
// A kernel with a verifiable twin of its CPU kernel (compute-shaders/verifiable_*.comp) runs it in
// that mode, on a device that passed vulkan::checkVerifiableGate (run once, at the first verifiable
// kernel). Every other kernel refuses the mode with an error that names it, so that a worker can never
// return a "verifiable" result computed by the fast shaders, whose sums are split by device.
// Uploads, fills, copies and reads are exact on any device and run in both modes.
#include "vulkan/backend/BindingWindow.h"
#include "vulkan/backend/StridedLayout.h"
#include "vulkan/backend/VulkanBackend.h"

#include "base/Error.h"
#include "vulkan/VerifiableGate.h"

namespace raven {

using vulkan::Access;

namespace {

struct VerifiableGemmPush {
    uint32_t m, n, k, batch;
    uint32_t aOffset, bOffset, cOffset, biasOffset;
    uint32_t aRowStride, aColStride, aBatchStride;
    uint32_t bRowStride, bColStride, bBatchStride;
    uint32_t biasStride, hasBias;
};
static_assert(sizeof(VerifiableGemmPush) <= 128, "push constants beyond the guaranteed 128 bytes");

struct VerifiableElementwisePush {
    uint32_t n, op, xOffset, yOffset, rOffset;
    float s;
};

constexpr uint32_t kGemmTile = 64;  // rows and columns of C per workgroup of verifiable_gemm.comp

}  // namespace

void VulkanBackend::requireVerifiableDevice() {
    if (!gate_) {
        flush();  // the gate records on a Recorder of its own, which needs the staging ring free
        gate_ = vulkan::checkVerifiableGate(*device_);
    }
    if (!gate_->admitted)
        fail(device_->info().name + " may not compute verifiable work units: " + gate_->summary(),
             "compute verifiable units on the CPU backend or on another device, or run the job in the fast "
             "kernel mode");
}

void VulkanBackend::refuseUnverifiable(const char* op) {
    if (kernelMode_ != KernelMode::Verifiable) return;
    fail(std::string("the Vulkan backend has no verifiable kernel for ") + op +
             " yet: it cannot compute this verifiable work unit",
         "compute verifiable units on the CPU backend, or run the job in the fast kernel mode");
}

// verifiable_gemm.comp over A and B as they are (any strides of the last two dimensions) once their
// batch dimensions are one: each batch element's matrices start a fixed stride apart, which a
// contiguous copy (exact) guarantees where the view does not.
Tensor VulkanBackend::verifiableMatmul(const Tensor& aIn, const Tensor& bIn, const Tensor& bias) {
    requireVerifiableDevice();
    RAVEN_ASSERT(aIn.dim() >= 2 && aIn.dim() == bIn.dim(), "VulkanBackend::matmul: operand ranks");
    const int64_t m = aIn.size(-2), k = aIn.size(-1), n = bIn.size(-1);
    RAVEN_ASSERT(bIn.size(-2) == k, "VulkanBackend::matmul: inner sizes differ");
    Shape outShape(aIn.shape().begin(), aIn.shape().end() - 2);
    RAVEN_ASSERT(outShape == Shape(bIn.shape().begin(), bIn.shape().end() - 2), "VulkanBackend::matmul: batch sizes");
    const int64_t batch = numelOf(outShape);
    outShape.insert(outShape.end(), {m, n});
    Tensor out = empty(outShape);
    if (out.numel() == 0) return out;
    const auto batched = [](const Tensor& t) { return t.dim() > 2 && !t.isContiguous(); };
    const Tensor a = batched(aIn) ? contiguousCopy(aIn) : aIn;
    const Tensor b = batched(bIn) ? contiguousCopy(bIn) : bIn;

    const vkb::BindingWindows windows(*device_);
    for (const Tensor* t : std::initializer_list<const Tensor*>{&a, &b, &bias, &out})
        if (t->defined() && !windows.fitsWhole(rangeOf(*t)))
            fail("a verifiable matrix product's operand of " + std::to_string(t->numel()) +
                     " floats is larger than one storage binding on " + device_->info().name,
                 "use smaller layers or batches, or compute verifiable units on the CPU backend");

    const auto stride = [](const Tensor& t, int64_t fromEnd) {
        return vkb::narrowToU32(t.strides()[t.strides().size() - static_cast<size_t>(fromEnd)]);
    };
    VerifiableGemmPush push{};
    push.m = vkb::narrowToU32(m);
    push.n = vkb::narrowToU32(n);
    push.k = vkb::narrowToU32(k);
    push.batch = vkb::narrowToU32(batch);
    push.aOffset = vkb::narrowToU32(a.offset());
    push.bOffset = vkb::narrowToU32(b.offset());
    push.cOffset = vkb::narrowToU32(out.offset());
    push.aRowStride = stride(a, 2);
    push.aColStride = stride(a, 1);
    push.aBatchStride = vkb::narrowToU32(m * k);
    push.bRowStride = stride(b, 2);
    push.bColStride = stride(b, 1);
    push.bBatchStride = vkb::narrowToU32(k * n);
    if (bias.defined()) {
        push.hasBias = 1;
        push.biasOffset = vkb::narrowToU32(bias.offset());
        push.biasStride = vkb::narrowToU32(bias.strides()[0]);
    }
    const vulkan::Pipeline& gemm = pipeline({"verifiable_gemm", 4, sizeof(VerifiableGemmPush), {}});
    const vulkan::Groups groups{vkb::narrowToU32((n + kGemmTile - 1) / kGemmTile),
                                vkb::narrowToU32((m + kGemmTile - 1) / kGemmTile), vkb::narrowToU32(batch)};
    const auto fb = static_cast<double>(batch), fm = static_cast<double>(m), fn = static_cast<double>(n),
               fk = static_cast<double>(k);
    recorder_->describeNext("verifiable_matmul", 2.0 * fb * fm * fn * fk, 4.0 * fb * (fm * fk + fk * fn + fm * fn));
    recorder_->dispatch(gemm,
                        {{rangeOf(a), Access::Read},
                         {rangeOf(b), Access::Read},
                         {bias.defined() ? rangeOf(bias) : rangeOf(a), Access::Read},
                         {rangeOf(out), Access::Write}},
                        push, groups);
    return out;
}


// verifiable_elementwise.comp over contiguous operands (views are copied first: exact), one invocation
// per element.
Tensor VulkanBackend::verifiableElementwise(uint32_t op, float s, const Tensor& xIn, const Tensor& yIn) {
    requireVerifiableDevice();
    RAVEN_ASSERT(!yIn.defined() || yIn.shape() == xIn.shape(), "VulkanBackend::binary: shapes differ");
    Tensor out = empty(xIn.shape());
    if (out.numel() == 0) return out;
    const Tensor x = xIn.isContiguous() ? xIn : contiguousCopy(xIn);
    const Tensor y = !yIn.defined() || yIn.isContiguous() ? yIn : contiguousCopy(yIn);
    const vkb::BindingWindows windows(*device_);
    for (const Tensor* t : std::initializer_list<const Tensor*>{&x, &y, &out})
        if (t->defined() && !windows.fitsWhole(rangeOf(*t)))
            fail("a verifiable elementwise operand of " + std::to_string(t->numel()) +
                     " floats is larger than one storage binding on " + device_->info().name,
                 "use smaller layers or batches, or compute verifiable units on the CPU backend");
    VerifiableElementwisePush push{};
    push.n = vkb::narrowToU32(out.numel());
    push.op = op;
    push.xOffset = vkb::narrowToU32(x.offset());
    push.yOffset = y.defined() ? vkb::narrowToU32(y.offset()) : 0;
    push.rOffset = vkb::narrowToU32(out.offset());
    push.s = s;
    const std::uint32_t local = elementwiseWorkgroupSize();
    const vulkan::Pipeline& kernel = pipeline({"verifiable_elementwise", 3, sizeof(VerifiableElementwisePush), {local}});
    recorder_->describeNext("verifiable_elementwise", static_cast<double>(out.numel()), 12.0 * out.numel());
    recorder_->dispatch(kernel,
                        {{rangeOf(x), Access::Read},
                         {y.defined() ? rangeOf(y) : rangeOf(x), Access::Read},
                         {rangeOf(out), Access::Write}},
                        push, vulkan::Recorder::groupsFor(static_cast<std::uint64_t>(out.numel()), local));
    return out;
}

}  // namespace raven
