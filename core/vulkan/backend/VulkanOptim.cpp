// Fused optimizer updates: compute-shaders/optim_adam.comp and optim_sgd.comp, one dispatch per
// parameter. Operands that are not contiguous (rare: parameters and their state are) are copied to
// contiguous first; the element offsets of views travel in push constants. Undefined state (the first
// step) binds the gradient in its place, which the shader then does not read.
#include "vulkan/backend/StridedLayout.h"
#include "vulkan/backend/VulkanBackend.h"

#include "base/Error.h"

namespace raven {

using vulkan::Access;
using vulkan::Recorder;

namespace {

struct AdamPush {
    uint32_t n, paramOffset, gradOffset, expAvgOffset, expAvgSqOffset, firstStep;
    float beta1, oneMinusBeta1, beta2, oneMinusBeta2, invSqrtCorrection2, eps, stepSize, weightDecay, decayFactor;
};

struct SgdPush {
    uint32_t n, paramOffset, gradOffset, bufOffset, useMomentum, firstStep, nesterov;
    float lr, weightDecay, momentum, oneMinusDampening;
};

Tensor contiguousOn(VulkanBackend& backend, const Tensor& t) {
    return t.isContiguous() ? t : backend.contiguousCopy(t);
}

uint32_t offsetOf(const Tensor& t) { return vkb::narrowToU32(t.offset()); }

}  // namespace

AdamUpdate VulkanBackend::adamUpdate(const Tensor& paramIn, const Tensor& gradIn, const Tensor& expAvgIn,
                                     const Tensor& expAvgSqIn, const AdamStepScalars& s) {
    RAVEN_ASSERT(paramIn.shape() == gradIn.shape(), "adamUpdate: parameter and gradient shapes differ");
    RAVEN_ASSERT(expAvgIn.defined() == expAvgSqIn.defined(), "adamUpdate: one moment without the other");
    RAVEN_ASSERT(!expAvgIn.defined() || (expAvgIn.shape() == paramIn.shape() && expAvgSqIn.shape() == paramIn.shape()),
                 "adamUpdate: moment shapes differ from the parameter's");
    AdamUpdate r{empty(paramIn.shape()), empty(paramIn.shape()), empty(paramIn.shape())};
    const int64_t n = paramIn.numel();
    if (n == 0) return r;
    const Tensor param = contiguousOn(*this, paramIn), grad = contiguousOn(*this, gradIn);
    const bool first = !expAvgIn.defined();
    const Tensor m = first ? grad : contiguousOn(*this, expAvgIn);
    const Tensor v = first ? grad : contiguousOn(*this, expAvgSqIn);
    const AdamPush push{vkb::narrowToU32(n),  offsetOf(param), offsetOf(grad),  offsetOf(m),   offsetOf(v),
                        first ? 1u : 0u,      s.beta1,         s.oneMinusBeta1, s.beta2,       s.oneMinusBeta2,
                        s.invSqrtCorrection2, s.eps,           s.stepSize,      s.weightDecay, s.decayFactor};
    const uint32_t local = elementwiseWorkgroupSize();
    const vulkan::Pipeline& kernel = pipeline({"optim_adam", 7, sizeof(AdamPush), {local}});
    recorder().describeNext("adam_update", 0, 4.0 * static_cast<double>(n) * (first ? 5 : 7));
    recorder().dispatch(kernel,
                        {{rangeOf(param), Access::Read},
                         {rangeOf(grad), Access::Read},
                         {rangeOf(m), Access::Read},
                         {rangeOf(v), Access::Read},
                         {rangeOf(r.param), Access::Write},
                         {rangeOf(r.expAvg), Access::Write},
                         {rangeOf(r.expAvgSq), Access::Write}},
                        push, Recorder::groupsFor(static_cast<uint64_t>(n), local));
    return r;
}

SgdUpdate VulkanBackend::sgdUpdate(const Tensor& paramIn, const Tensor& gradIn, const Tensor& bufIn,
                                   const SgdStepScalars& s) {
    RAVEN_ASSERT(paramIn.shape() == gradIn.shape(), "sgdUpdate: parameter and gradient shapes differ");
    RAVEN_ASSERT(!bufIn.defined() || bufIn.shape() == paramIn.shape(), "sgdUpdate: momentum buffer shape");
    const bool useMomentum = s.momentum != 0.0f;
    SgdUpdate r{empty(paramIn.shape()), useMomentum ? empty(paramIn.shape()) : Tensor()};
    const int64_t n = paramIn.numel();
    if (n == 0) return r;
    const Tensor param = contiguousOn(*this, paramIn), grad = contiguousOn(*this, gradIn);
    const bool first = !bufIn.defined();
    const Tensor buf = first || !useMomentum ? grad : contiguousOn(*this, bufIn);
    const SgdPush push{vkb::narrowToU32(n),   offsetOf(param), offsetOf(grad),       offsetOf(buf),
                       useMomentum ? 1u : 0u, first ? 1u : 0u, s.nesterov ? 1u : 0u, s.lr,
                       s.weightDecay,         s.momentum,      s.oneMinusDampening};
    const uint32_t local = elementwiseWorkgroupSize();
    const vulkan::Pipeline& kernel = pipeline({"optim_sgd", 5, sizeof(SgdPush), {local}});
    const double accesses = 3.0 + (useMomentum ? (first ? 1.0 : 2.0) : 0.0);
    recorder().describeNext("sgd_update", 0, 4.0 * static_cast<double>(n) * accesses);
    const Tensor& bufOut = useMomentum ? r.momentumBuffer : r.param;
    recorder().dispatch(kernel,
                        {{rangeOf(param), Access::Read},
                         {rangeOf(grad), Access::Read},
                         {rangeOf(buf), Access::Read},
                         {rangeOf(r.param), Access::Write},
                         {rangeOf(bufOut), Access::Write}},
                        push, Recorder::groupsFor(static_cast<uint64_t>(n), local));
    return r;
}

}  // namespace raven
