// Softmax, log-softmax and cross-entropy along the last axis, one row per task item.
// Every row is reduced sequentially from its first element to its last (a fixed order); the maximum
// is subtracted before exponentiating, so large logits neither overflow nor lose precision.
#include <algorithm>
#include <cmath>

#include "base/Error.h"
#include "cpu/CpuBackend.h"
#include "cpu/ElementwiseMath.h"

namespace raven {

namespace {
constexpr int64_t kRowGrain = 1 << 13;  // elements per task

float rowMax(const float* x, int64_t c) {
    float m = x[0];
    for (int64_t i = 1; i < c; ++i) m = x[i] > m ? x[i] : m;
    return m;
}

// A row's maximum and log(sum(exp(x - max))), kept apart: x - max - logSum loses less precision
// than x - (max + logSum) when the logits are large.
struct LogSumExp {
    float max;
    float logSum;
};

template <class M>
LogSumExp rowLogSumExp(const float* x, int64_t c) {
    const float m = rowMax(x, c);
    float s = 0.0f;
    for (int64_t i = 0; i < c; ++i) s += M::exp(x[i] - m);
    return {m, M::log(s)};
}

template <class RowFn>
void forEachRow(ThreadPool& pool, int64_t rows, int64_t cols, RowFn fn) {
    const int64_t grain = std::max<int64_t>(1, kRowGrain / std::max<int64_t>(1, cols));
    pool.parallelFor(rows, grain, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) fn(r);
    });
}

int64_t targetClass(float t, int64_t classes, int64_t row) {
    const auto cls = static_cast<int64_t>(t);
    if (!(t >= 0.0f) || static_cast<float>(cls) != t || cls >= classes) {
        fail("crossEntropy: target " + std::to_string(t) + " of sample " + std::to_string(row) +
                 " is not a class index in [0, " + std::to_string(classes) + ")",
             "targets must be integer class indices below the number of logits per sample");
    }
    return cls;
}

template <class M>
Tensor softmaxWith(CpuBackend& b, const Tensor& xIn) {
    const Tensor x = xIn.contiguous();
    Tensor out = b.empty(x.shape());
    if (x.numel() == 0) return out;
    const int64_t c = x.dim() == 0 ? 1 : x.size(-1), rows = x.numel() / c;
    const float* in = CpuBackend::hostData(x);
    float* o = CpuBackend::hostData(out);
    forEachRow(b.pool(), rows, c, [&](int64_t r) {
        const float* xr = in + r * c;
        float* yr = o + r * c;
        const float m = rowMax(xr, c);
        float s = 0.0f;
        for (int64_t i = 0; i < c; ++i) {
            yr[i] = M::exp(xr[i] - m);
            s += yr[i];
        }
        const float inv = M::div(1.0f, s);
        for (int64_t i = 0; i < c; ++i) yr[i] *= inv;
    });
    return out;
}

template <class M>
Tensor logSoftmaxWith(CpuBackend& b, const Tensor& xIn) {
    const Tensor x = xIn.contiguous();
    Tensor out = b.empty(x.shape());
    if (x.numel() == 0) return out;
    const int64_t c = x.dim() == 0 ? 1 : x.size(-1), rows = x.numel() / c;
    const float* in = CpuBackend::hostData(x);
    float* o = CpuBackend::hostData(out);
    forEachRow(b.pool(), rows, c, [&](int64_t r) {
        const float* xr = in + r * c;
        const LogSumExp lse = rowLogSumExp<M>(xr, c);
        for (int64_t i = 0; i < c; ++i) o[r * c + i] = (xr[i] - lse.max) - lse.logSum;
    });
    return out;
}

template <class M>
Tensor softmaxBackwardWith(CpuBackend& b, const Tensor& yIn, const Tensor& gIn) {
    RAVEN_ASSERT(yIn.shape() == gIn.shape(), "softmaxBackward: shapes differ");
    const Tensor y = yIn.contiguous(), g = gIn.contiguous();
    Tensor out = b.empty(y.shape());
    if (y.numel() == 0) return out;
    const int64_t c = y.dim() == 0 ? 1 : y.size(-1), rows = y.numel() / c;
    const float* py = CpuBackend::hostData(y);
    const float* pg = CpuBackend::hostData(g);
    float* o = CpuBackend::hostData(out);
    forEachRow(b.pool(), rows, c, [&](int64_t r) {
        const float* yr = py + r * c;
        const float* gr = pg + r * c;
        float dot = 0.0f;
        for (int64_t i = 0; i < c; ++i) dot += gr[i] * yr[i];
        for (int64_t i = 0; i < c; ++i) o[r * c + i] = yr[i] * (gr[i] - dot);
    });
    return out;
}

template <class M>
Tensor logSoftmaxBackwardWith(CpuBackend& b, const Tensor& yIn, const Tensor& gIn) {
    RAVEN_ASSERT(yIn.shape() == gIn.shape(), "logSoftmaxBackward: shapes differ");
    const Tensor y = yIn.contiguous(), g = gIn.contiguous();
    Tensor out = b.empty(y.shape());
    if (y.numel() == 0) return out;
    const int64_t c = y.dim() == 0 ? 1 : y.size(-1), rows = y.numel() / c;
    const float* py = CpuBackend::hostData(y);
    const float* pg = CpuBackend::hostData(g);
    float* o = CpuBackend::hostData(out);
    forEachRow(b.pool(), rows, c, [&](int64_t r) {
        const float* yr = py + r * c;
        const float* gr = pg + r * c;
        float s = 0.0f;
        for (int64_t i = 0; i < c; ++i) s += gr[i];
        for (int64_t i = 0; i < c; ++i) o[r * c + i] = gr[i] - M::exp(yr[i]) * s;
    });
    return out;
}

template <class M>
Tensor crossEntropyWith(CpuBackend& b, const Tensor& logitsIn, const Tensor& targetsIn, float labelSmoothing) {
    const Tensor x = logitsIn.contiguous(), t = targetsIn.contiguous();
    const int64_t n = x.size(0), c = x.size(1);
    Tensor out = b.empty({n});
    RAVEN_CHECK(c > 0 || n == 0, "crossEntropy: logits " + shapeToString(x.shape()) + " have no classes", "");
    const float* px = CpuBackend::hostData(x);
    const float* pt = CpuBackend::hostData(t);
    float* o = CpuBackend::hostData(out);
    const float smooth = M::div(labelSmoothing, static_cast<float>(std::max<int64_t>(c, 1)));
    forEachRow(b.pool(), n, c, [&](int64_t r) {
        const float* xr = px + r * c;
        const int64_t cls = targetClass(pt[r], c, r);
        const LogSumExp lse = rowLogSumExp<M>(xr, c);
        // -sum_c q_c log_softmax_c with q = (1 - s) onehot + s / C; log_softmax_c = (x_c - max) - logSum.
        float loss = (1.0f - labelSmoothing) * (lse.logSum - (xr[cls] - lse.max));
        if (labelSmoothing != 0.0f) {
            float s = 0.0f;
            for (int64_t i = 0; i < c; ++i) s += lse.logSum - (xr[i] - lse.max);
            loss += smooth * s;
        }
        o[r] = loss;
    });
    return out;
}

template <class M>
Tensor crossEntropyBackwardWith(CpuBackend& b, const Tensor& logitsIn, const Tensor& targetsIn, const Tensor& gradIn,
                                        float labelSmoothing) {
    const Tensor x = logitsIn.contiguous(), t = targetsIn.contiguous(), g = gradIn.contiguous();
    const int64_t n = x.size(0), c = x.size(1);
    Tensor out = b.empty(x.shape());
    const float* px = CpuBackend::hostData(x);
    const float* pt = CpuBackend::hostData(t);
    const float* pg = CpuBackend::hostData(g);
    float* o = CpuBackend::hostData(out);
    const float smooth = M::div(labelSmoothing, static_cast<float>(std::max<int64_t>(c, 1)));
    forEachRow(b.pool(), n, c, [&](int64_t r) {
        const float* xr = px + r * c;
        float* gr = o + r * c;
        const int64_t cls = targetClass(pt[r], c, r);
        const LogSumExp lse = rowLogSumExp<M>(xr, c);
        for (int64_t i = 0; i < c; ++i) gr[i] = pg[r] * (M::exp((xr[i] - lse.max) - lse.logSum) - smooth);
        gr[cls] -= pg[r] * (1.0f - labelSmoothing);
    });
    return out;
}

}  // namespace

// The kernel mode picks the math policy (cpu/ElementwiseMath.h); the loops are the same.
#define RAVEN_BY_MODE(call) \
    (kernelMode_ == KernelMode::Verifiable ? call<cpu::math::VerifiableMath> : call<cpu::math::LibmMath>)

Tensor CpuBackend::softmax(const Tensor& x) { return RAVEN_BY_MODE(softmaxWith)(*this, x); }
Tensor CpuBackend::logSoftmax(const Tensor& x) { return RAVEN_BY_MODE(logSoftmaxWith)(*this, x); }
Tensor CpuBackend::softmaxBackward(const Tensor& y, const Tensor& gradY) {
    return RAVEN_BY_MODE(softmaxBackwardWith)(*this, y, gradY);
}
Tensor CpuBackend::logSoftmaxBackward(const Tensor& y, const Tensor& gradY) {
    return RAVEN_BY_MODE(logSoftmaxBackwardWith)(*this, y, gradY);
}
Tensor CpuBackend::crossEntropy(const Tensor& logits, const Tensor& targets, float labelSmoothing) {
    return RAVEN_BY_MODE(crossEntropyWith)(*this, logits, targets, labelSmoothing);
}
Tensor CpuBackend::crossEntropyBackward(const Tensor& logits, const Tensor& targets, const Tensor& gradLoss,
                                        float labelSmoothing) {
    return RAVEN_BY_MODE(crossEntropyBackwardWith)(*this, logits, targets, gradLoss, labelSmoothing);
}
#undef RAVEN_BY_MODE

}  // namespace raven
