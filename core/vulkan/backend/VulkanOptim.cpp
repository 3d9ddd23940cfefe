// Fused optimizer updates: compute-shaders/optim_adam.comp and optim_sgd.comp, one dispatch per
// parameter. Operands that are not contiguous (rare: parameters and their state are) are copied to
// contiguous first; the element offsets of views travel in push constants, the step's scalars in a
// small buffer (VulkanBackend::stepScalars) so that the commands of a step repeat exactly. Undefined
// state (the first step) binds the gradient in its place, which the shader then does not read. A
// parameter larger than one binding is updated in element ranges bound as windows (BindingWindow.h).
#include "vulkan/backend/BindingWindow.h"
#include "vulkan/backend/StridedLayout.h"
#include "vulkan/backend/VulkanBackend.h"

#include "base/Error.h"

#include <algorithm>

#include <array>

namespace raven {

using vulkan::Access;
using vulkan::Recorder;

namespace {

struct AdamPush {
    uint32_t n, paramOffset, gradOffset, expAvgOffset, expAvgSqOffset, paramOutOffset, expAvgOutOffset,
        expAvgSqOutOffset, firstStep;
};

// verifiable_adam.comp's: AdamPush and which of the CPU's cases applies (CpuOptimizer.cpp's flags).
struct VerifiableAdamPush {
    AdamPush adam;
    uint32_t coupled, decoupled;
};

struct SgdPush {
    uint32_t n, paramOffset, gradOffset, bufOffset, paramOutOffset, bufOutOffset, useMomentum, firstStep, nesterov;
};

Tensor contiguousOn(VulkanBackend& backend, const Tensor& t) {
    return t.isContiguous() ? t : backend.contiguousCopy(t);
}

// Calls fn(bindings, offsets, count) for element ranges of n that fit one binding window in every operand
// (all of n at once when every storage fits one binding). The operands are contiguous with n elements.
template <std::size_t N, class Fn>
void forRanges(VulkanBackend& backend, int64_t n, const std::array<const Tensor*, N>& operands, Fn fn) {
    const vkb::BindingWindows windows(backend.device());
    bool whole = true;
    for (const Tensor* t : operands) whole = whole && windows.fitsWhole(backend.rangeOf(*t));
    const int64_t part = whole ? n : windows.capacity();
    for (int64_t first = 0; first < n; first += part) {
        const int64_t count = std::min(part, n - first);
        std::array<vulkan::BufferRange, N> ranges;
        std::array<uint32_t, N> offsets{};
        for (std::size_t k = 0; k < N; ++k) {
            const int64_t begin = operands[k]->offset() + first;
            const vkb::BindingWindow w = windows.over(backend.rangeOf(*operands[k]), begin, count);
            ranges[k] = w.range;
            offsets[k] = vkb::narrowToU32(begin - w.start);
        }
        fn(ranges, offsets, count);
    }
}

}  // namespace

AdamUpdate VulkanBackend::adamUpdate(const Tensor& paramIn, const Tensor& gradIn, const Tensor& expAvgIn,
                                     const Tensor& expAvgSqIn, const AdamStepScalars& s) {
    const bool verifiable = kernelMode_ == KernelMode::Verifiable;
    if (verifiable) requireVerifiableDevice();
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
    const float scalars[] = {s.beta1, s.oneMinusBeta1, s.beta2,       s.oneMinusBeta2, s.invSqrtCorrection2,
                             s.eps,   s.stepSize,      s.weightDecay, s.decayFactor};
    const vulkan::BufferRange scalarRange = stepScalars(scalars);
    const uint32_t local = elementwiseWorkgroupSize();
    forRanges<7>(
        *this, n, {&param, &grad, &m, &v, &r.param, &r.expAvg, &r.expAvgSq},
        [&](const auto& b, const auto& o, int64_t count) {
            // Four elements per invocation where every operand starts on a multiple of 4.
            const bool vec4 = std::all_of(o.begin(), o.end(), [](uint32_t x) { return x % 4 == 0; });
            const AdamPush push{vkb::narrowToU32(count), o[0], o[1], o[2], o[3], o[4], o[5], o[6], first ? 1u : 0u};
            const std::initializer_list<vulkan::Binding> bindings{
                {b[0], Access::Read},  {b[1], Access::Read},  {b[2], Access::Read},  {b[3], Access::Read},
                {b[4], Access::Write}, {b[5], Access::Write}, {b[6], Access::Write}, {scalarRange, Access::Read}};
            recorder().describeNext(verifiable ? "verifiable_adam_update" : "adam_update", 0,
                                    4.0 * static_cast<double>(count) * (first ? 5 : 7));
            if (verifiable) {
                const VerifiableAdamPush vpush{push, s.weightDecay != 0.0f ? 1u : 0u, s.decayFactor != 1.0f ? 1u : 0u};
                recorder().dispatch(pipeline({"verifiable_adam", 8, sizeof(VerifiableAdamPush), {local}}), bindings,
                                    vpush, Recorder::groupsFor(static_cast<uint64_t>(count), local));
                return;
            }
            const vulkan::Pipeline& kernel = pipeline({"optim_adam", 8, sizeof(AdamPush), {local, vec4 ? 1u : 0u}});
            recorder().dispatch(kernel, bindings, push,
                                Recorder::groupsFor(static_cast<uint64_t>(vec4 ? (count + 3) / 4 : count), local));
        });
    return r;
}

SgdUpdate VulkanBackend::sgdUpdate(const Tensor& paramIn, const Tensor& gradIn, const Tensor& bufIn,
                                   const SgdStepScalars& s) {
    refuseUnverifiable("sgdUpdate");
    RAVEN_ASSERT(paramIn.shape() == gradIn.shape(), "sgdUpdate: parameter and gradient shapes differ");
    RAVEN_ASSERT(!bufIn.defined() || bufIn.shape() == paramIn.shape(), "sgdUpdate: momentum buffer shape");
    const bool useMomentum = s.momentum != 0.0f;
    SgdUpdate r{empty(paramIn.shape()), useMomentum ? empty(paramIn.shape()) : Tensor()};
    const int64_t n = paramIn.numel();
    if (n == 0) return r;
    const Tensor param = contiguousOn(*this, paramIn), grad = contiguousOn(*this, gradIn);
    const bool first = !bufIn.defined();
    const Tensor buf = first || !useMomentum ? grad : contiguousOn(*this, bufIn);
    const float scalars[] = {s.lr, s.weightDecay, s.momentum, s.oneMinusDampening};
    const vulkan::BufferRange scalarRange = stepScalars(scalars);
    const uint32_t local = elementwiseWorkgroupSize();
    const vulkan::Pipeline& kernel = pipeline({"optim_sgd", 6, sizeof(SgdPush), {local}});
    const double accesses = 3.0 + (useMomentum ? (first ? 1.0 : 2.0) : 0.0);
    const Tensor& bufOut = useMomentum ? r.momentumBuffer : r.param;
    forRanges<5>(*this, n, {&param, &grad, &buf, &r.param, &bufOut}, [&](const auto& b, const auto& o, int64_t count) {
        const SgdPush push{
            vkb::narrowToU32(count), o[0], o[1], o[2], o[3], o[4], useMomentum ? 1u : 0u, first ? 1u : 0u,
            s.nesterov ? 1u : 0u};
        recorder().describeNext("sgd_update", 0, 4.0 * static_cast<double>(count) * accesses);
        recorder().dispatch(kernel,
                            {{b[0], Access::Read},
                             {b[1], Access::Read},
                             {b[2], Access::Read},
                             {b[3], Access::Write},
                             {b[4], Access::Write},
                             {scalarRange, Access::Read}},
                            push, Recorder::groupsFor(static_cast<uint64_t>(count), local));
    });
    return r;
}

}  // namespace raven
