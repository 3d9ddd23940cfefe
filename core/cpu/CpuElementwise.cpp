// Elementwise kernels of the CPU backend: the op is chosen once per call (a switch that instantiates
// a loop per functor, per math policy: cpu/ElementwiseMath.h, chosen by the kernel mode); the loops run over coalesced segments with fast paths for contiguous and
// broadcast (stride 0) inner strides, so the compiler can vectorise them.
#include <algorithm>
#include <cmath>

#include "base/Error.h"
#include "cpu/CpuBackend.h"
#include "cpu/ElementwiseMath.h"
#include "cpu/StridedLoop.h"

namespace raven {

namespace {
constexpr int64_t kCheapGrain = 1 << 15;   // elements per chunk for +, *, max...
constexpr int64_t kCostlyGrain = 1 << 12;  // for exp, tanh, erf...

template <class F>
void unaryLoop(ThreadPool& pool, const Tensor& x, const Tensor& out, int64_t grain, F f) {
    const auto layout = cpu::coalesce<2>(out.shape(), {&out.strides(), &x.strides()});
    float* o = CpuBackend::hostData(out);
    const float* in = CpuBackend::hostData(x);
    pool.parallelFor(out.numel(), grain, [&](int64_t b, int64_t e) {
        cpu::forEachSegment<2>(layout, {0, 0}, b, e, [&](auto off, auto inner, int64_t n) {
            float* y = o + off[0];  // the output is contiguous: inner stride 1
            const float* xs = in + off[1];
            if (inner[1] == 1) {
                for (int64_t i = 0; i < n; ++i) y[i] = f(xs[i]);
            } else if (inner[1] == 0) {
                const float v = f(xs[0]);
                for (int64_t i = 0; i < n; ++i) y[i] = v;
            } else {
                for (int64_t i = 0; i < n; ++i) y[i] = f(xs[i * inner[1]]);
            }
        });
    });
}

template <class F>
void binaryLoop(ThreadPool& pool, const Tensor& a, const Tensor& b, const Tensor& out, int64_t grain, F f) {
    const auto layout = cpu::coalesce<3>(out.shape(), {&out.strides(), &a.strides(), &b.strides()});
    float* o = CpuBackend::hostData(out);
    const float* pa = CpuBackend::hostData(a);
    const float* pb = CpuBackend::hostData(b);
    pool.parallelFor(out.numel(), grain, [&](int64_t begin, int64_t end) {
        cpu::forEachSegment<3>(layout, {0, 0, 0}, begin, end, [&](auto off, auto inner, int64_t n) {
            float* y = o + off[0];
            const float* x0 = pa + off[1];
            const float* x1 = pb + off[2];
            if (inner[1] == 1 && inner[2] == 1) {
                for (int64_t i = 0; i < n; ++i) y[i] = f(x0[i], x1[i]);
            } else if (inner[1] == 1 && inner[2] == 0) {
                const float v = x1[0];
                for (int64_t i = 0; i < n; ++i) y[i] = f(x0[i], v);
            } else if (inner[1] == 0 && inner[2] == 1) {
                const float v = x0[0];
                for (int64_t i = 0; i < n; ++i) y[i] = f(v, x1[i]);
            } else {
                for (int64_t i = 0; i < n; ++i) y[i] = f(x0[i * inner[1]], x1[i * inner[2]]);
            }
        });
    });
}

template <class M>
void unaryWith(ThreadPool& p, UnaryOp op, const Tensor& x, const Tensor& out) {
    switch (op) {
        case UnaryOp::Neg:
            unaryLoop(p, x, out, kCheapGrain, [](float v) { return -v; });
            break;
        case UnaryOp::Exp:
            unaryLoop(p, x, out, kCostlyGrain, [](float v) { return M::exp(v); });
            break;
        case UnaryOp::Log:
            unaryLoop(p, x, out, kCostlyGrain, [](float v) { return M::log(v); });
            break;
        case UnaryOp::Sqrt:
            unaryLoop(p, x, out, kCheapGrain, [](float v) { return M::sqrt(v); });
            break;
        case UnaryOp::Abs:
            unaryLoop(p, x, out, kCheapGrain, [](float v) { return std::fabs(v); });
            break;
        case UnaryOp::Tanh:
            unaryLoop(p, x, out, kCostlyGrain, [](float v) { return M::tanh(v); });
            break;
        case UnaryOp::Sigmoid:
            unaryLoop(p, x, out, kCostlyGrain, [](float v) { return cpu::math::sigmoid<M>(v); });
            break;
        case UnaryOp::Relu:
            unaryLoop(p, x, out, kCheapGrain, [](float v) { return v > 0.0f ? v : 0.0f; });
            break;
        case UnaryOp::GeluTanh:
            unaryLoop(p, x, out, kCostlyGrain, [](float v) { return cpu::math::geluTanh<M>(v); });
            break;
        case UnaryOp::GeluErf:
            unaryLoop(p, x, out, kCostlyGrain, [](float v) { return cpu::math::geluErf<M>(v); });
            break;
    }
}

template <class M>
void scalarWith(ThreadPool& p, ScalarOp op, const Tensor& x, float s, const Tensor& out) {
    switch (op) {
        case ScalarOp::Add:
            unaryLoop(p, x, out, kCheapGrain, [s](float v) { return v + s; });
            break;
        case ScalarOp::Mul:
            unaryLoop(p, x, out, kCheapGrain, [s](float v) { return v * s; });
            break;
        case ScalarOp::Pow:
            // Exact, cheap forms for the common exponents; the policy's pow otherwise.
            if (s == 2.0f) {
                unaryLoop(p, x, out, kCheapGrain, [](float v) { return v * v; });
            } else if (s == 1.0f) {
                unaryLoop(p, x, out, kCheapGrain, [](float v) { return v; });
            } else if (s == 0.5f) {
                unaryLoop(p, x, out, kCheapGrain, [](float v) { return M::sqrt(v); });
            } else {
                unaryLoop(p, x, out, kCostlyGrain, [s](float v) { return M::pow(v, s); });
            }
            break;
    }
}

template <class M>
void binaryWith(ThreadPool& p, BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
    namespace m = cpu::math;
    switch (op) {
        case BinaryOp::Add:
            binaryLoop(p, a, b, out, kCheapGrain, [](float x, float y) { return x + y; });
            break;
        case BinaryOp::Sub:
            binaryLoop(p, a, b, out, kCheapGrain, [](float x, float y) { return x - y; });
            break;
        case BinaryOp::Mul:
            binaryLoop(p, a, b, out, kCheapGrain, [](float x, float y) { return x * y; });
            break;
        case BinaryOp::Div:
            binaryLoop(p, a, b, out, kCheapGrain, [](float x, float y) { return M::div(x, y); });
            break;
        case BinaryOp::Maximum:
            binaryLoop(p, a, b, out, kCheapGrain, [](float x, float y) { return x > y ? x : y; });
            break;
        case BinaryOp::Minimum:
            binaryLoop(p, a, b, out, kCheapGrain, [](float x, float y) { return x < y ? x : y; });
            break;
        case BinaryOp::Equal:
            binaryLoop(p, a, b, out, kCheapGrain, [](float x, float y) { return x == y ? 1.0f : 0.0f; });
            break;
        case BinaryOp::ReluBackward:
            binaryLoop(p, a, b, out, kCheapGrain, [](float g, float x) { return x > 0.0f ? g : 0.0f; });
            break;
        case BinaryOp::TanhBackward:
            binaryLoop(p, a, b, out, kCheapGrain, [](float g, float y) { return g * (1.0f - y * y); });
            break;
        case BinaryOp::SigmoidBackward:
            binaryLoop(p, a, b, out, kCheapGrain, [](float g, float y) { return g * y * (1.0f - y); });
            break;
        case BinaryOp::GeluTanhBackward:
            binaryLoop(p, a, b, out, kCostlyGrain, [](float g, float x) { return g * m::geluTanhGrad<M>(x); });
            break;
        case BinaryOp::GeluErfBackward:
            binaryLoop(p, a, b, out, kCostlyGrain, [](float g, float x) { return g * m::geluErfGrad<M>(x); });
            break;
    }
}

}  // namespace

Tensor CpuBackend::unary(UnaryOp op, const Tensor& x) {
    Tensor out = empty(x.shape());
    if (kernelMode_ == KernelMode::Verifiable)
        unaryWith<cpu::math::VerifiableMath>(*pool_, op, x, out);
    else
        unaryWith<cpu::math::LibmMath>(*pool_, op, x, out);
    return out;
}

Tensor CpuBackend::scalar(ScalarOp op, const Tensor& x, float s) {
    Tensor out = empty(x.shape());
    if (kernelMode_ == KernelMode::Verifiable)
        scalarWith<cpu::math::VerifiableMath>(*pool_, op, x, s, out);
    else
        scalarWith<cpu::math::LibmMath>(*pool_, op, x, s, out);
    return out;
}

Tensor CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b) {
    RAVEN_ASSERT(a.shape() == b.shape(), "CpuBackend::binary: shapes differ");
    Tensor out = empty(a.shape());
    if (kernelMode_ == KernelMode::Verifiable)
        binaryWith<cpu::math::VerifiableMath>(*pool_, op, a, b, out);
    else
        binaryWith<cpu::math::LibmMath>(*pool_, op, a, b, out);
    return out;
}

}  // namespace raven
