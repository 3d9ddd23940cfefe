#include "cpu/kernels/BatchNorm.h"

#include <cmath>
#include <string>

#include "cpu/kernels/Checks.h"

namespace raven::cpu::kernels {


void batch_norm_forward(const BatchNormShape& s, bool training, const float* x, const float* weight, const float* bias,
                        float* runningMean, float* runningVar, float* y, float* savedMean, float* savedInvstd,
                        const ParallelFor& parallel) {
    s.validate(training);
    const int64_t count = s.batch * s.spatial, stride = s.channels * s.spatial;
    forEachItem(parallel, s.channels, [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c) {
            double mu = 0.0, inv = 0.0;
            if (training) {
                double sum = 0.0;
                for (int64_t n = 0; n < s.batch; ++n) {
                    const float* in = x + n * stride + c * s.spatial;
                    for (int64_t p = 0; p < s.spatial; ++p) sum += in[p];
                }
                mu = sum / static_cast<double>(count);
                double squares = 0.0;
                for (int64_t n = 0; n < s.batch; ++n) {
                    const float* in = x + n * stride + c * s.spatial;
                    for (int64_t p = 0; p < s.spatial; ++p) squares += (in[p] - mu) * (in[p] - mu);
                }
                inv = 1.0 / std::sqrt(squares / static_cast<double>(count) + static_cast<double>(s.eps));
                if (runningMean)
                    runningMean[c] = static_cast<float>((1.0 - s.momentum) * runningMean[c] + s.momentum * mu);
                if (runningVar)
                    runningVar[c] = static_cast<float>((1.0 - s.momentum) * runningVar[c] +
                                                       s.momentum * squares / static_cast<double>(count - 1));
            } else {
                mu = runningMean[c];
                inv = 1.0 / std::sqrt(static_cast<double>(runningVar[c]) + static_cast<double>(s.eps));
            }
            savedMean[c] = static_cast<float>(mu);
            savedInvstd[c] = static_cast<float>(inv);
            const double scale = inv * (weight ? weight[c] : 1.0f), shift = bias ? bias[c] : 0.0f;
            for (int64_t n = 0; n < s.batch; ++n) {
                const float* in = x + n * stride + c * s.spatial;
                float* out = y + n * stride + c * s.spatial;
                for (int64_t p = 0; p < s.spatial; ++p) out[p] = static_cast<float>((in[p] - mu) * scale + shift);
            }
        }
    });
}

void batch_norm_backward(const BatchNormShape& s, bool training, const float* x, const float* weight,
                         const float* savedMean, const float* savedInvstd, const float* dy, float* dx, float* dweight,
                         float* dbias, const ParallelFor& parallel) {
    s.validate(training);
    const int64_t count = s.batch * s.spatial, stride = s.channels * s.spatial;
    forEachItem(parallel, s.channels, [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c) {
            const double mu = savedMean[c], inv = savedInvstd[c];
            double sumDy = 0.0, sumDyXhat = 0.0;
            for (int64_t n = 0; n < s.batch; ++n) {
                const float* in = x + n * stride + c * s.spatial;
                const float* grad = dy + n * stride + c * s.spatial;
                for (int64_t p = 0; p < s.spatial; ++p) {
                    sumDy += grad[p];
                    sumDyXhat += static_cast<double>(grad[p]) * (in[p] - mu) * inv;
                }
            }
            if (dweight) dweight[c] = static_cast<float>(sumDyXhat);
            if (dbias) dbias[c] = static_cast<float>(sumDy);
            if (!dx) continue;
            const double scale = inv * (weight ? weight[c] : 1.0f);
            // In training, x moves the batch mean and variance too:
            // dx = w * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)).
            const double meanDy = training ? sumDy / static_cast<double>(count) : 0.0;
            const double meanDyXhat = training ? sumDyXhat / static_cast<double>(count) : 0.0;
            for (int64_t n = 0; n < s.batch; ++n) {
                const float* in = x + n * stride + c * s.spatial;
                const float* grad = dy + n * stride + c * s.spatial;
                float* out = dx + n * stride + c * s.spatial;
                for (int64_t p = 0; p < s.spatial; ++p)
                    out[p] = static_cast<float>(scale * (grad[p] - meanDy - (in[p] - mu) * inv * meanDyXhat));
            }
        }
    });
}

}  // namespace raven::cpu::kernels
