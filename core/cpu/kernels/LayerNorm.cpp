#include "cpu/kernels/LayerNorm.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "cpu/kernels/Checks.h"

namespace raven::cpu::kernels {

using detail::requireAtLeast;

void LayerNormShape::validate() const {
    requireAtLeast("layer_norm", "rows", rows, 1);
    requireAtLeast("layer_norm", "features", features, 1);
    if (!(eps >= 0.0f))
        fail("layer_norm: eps is " + std::to_string(eps) + ", it must be zero or positive", "use eps = 1e-5");
}

namespace {
// Features per work item of the parameter gradients.
constexpr int64_t featureBlock = 256;
}  // namespace

void layer_norm_forward(const LayerNormShape& s, const float* x, const float* weight, const float* bias, float* y,
                        float* mean, float* rstd, const ParallelFor& parallel) {
    s.validate();
    const int64_t d = s.features;
    forEachItem(parallel, s.rows, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
            const float* in = x + r * d;
            double sum = 0.0;
            for (int64_t i = 0; i < d; ++i) sum += in[i];
            const double mu = sum / static_cast<double>(d);
            double squares = 0.0;
            for (int64_t i = 0; i < d; ++i) squares += (in[i] - mu) * (in[i] - mu);
            const double inv = 1.0 / std::sqrt(squares / static_cast<double>(d) + static_cast<double>(s.eps));
            mean[r] = static_cast<float>(mu);
            rstd[r] = static_cast<float>(inv);
            float* out = y + r * d;
            for (int64_t i = 0; i < d; ++i) {
                const float normalized = static_cast<float>((in[i] - mu) * inv);
                out[i] = normalized * (weight ? weight[i] : 1.0f) + (bias ? bias[i] : 0.0f);
            }
        }
    });
}

void layer_norm_backward(const LayerNormShape& s, const float* x, const float* weight, const float* mean,
                         const float* rstd, const float* dy, float* dx, float* dweight, float* dbias,
                         const ParallelFor& parallel) {
    s.validate();
    const int64_t d = s.features;
    if (dx) {
        forEachItem(parallel, s.rows, [&](int64_t begin, int64_t end) {
            for (int64_t r = begin; r < end; ++r) {
                const float* in = x + r * d;
                const float* grad = dy + r * d;
                const double mu = mean[r], inv = rstd[r];
                // g = dy * weight; dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
                double sumG = 0.0, sumGX = 0.0;
                for (int64_t i = 0; i < d; ++i) {
                    const double g = static_cast<double>(grad[i]) * (weight ? weight[i] : 1.0f);
                    sumG += g;
                    sumGX += g * (in[i] - mu) * inv;
                }
                const double meanG = sumG / static_cast<double>(d), meanGX = sumGX / static_cast<double>(d);
                float* out = dx + r * d;
                for (int64_t i = 0; i < d; ++i) {
                    const double g = static_cast<double>(grad[i]) * (weight ? weight[i] : 1.0f);
                    out[i] = static_cast<float>(inv * (g - meanG - (in[i] - mu) * inv * meanGX));
                }
            }
        });
    }
    if (!dweight && !dbias) return;
    const int64_t blocks = (d + featureBlock - 1) / featureBlock;
    forEachItem(parallel, blocks, [&](int64_t begin, int64_t end) {
        std::vector<double> sumW(featureBlock), sumB(featureBlock);
        for (int64_t b = begin; b < end; ++b) {
            const int64_t i0 = b * featureBlock, count = std::min(featureBlock, d - i0);
            std::fill(sumW.begin(), sumW.end(), 0.0);
            std::fill(sumB.begin(), sumB.end(), 0.0);
            for (int64_t r = 0; r < s.rows; ++r) {
                const float* in = x + r * d + i0;
                const float* grad = dy + r * d + i0;
                const double mu = mean[r], inv = rstd[r];
                for (int64_t i = 0; i < count; ++i) {
                    sumW[i] += static_cast<double>(grad[i]) * (in[i] - mu) * inv;
                    sumB[i] += grad[i];
                }
            }
            for (int64_t i = 0; i < count; ++i) {
                if (dweight) dweight[i0 + i] = static_cast<float>(sumW[i]);
                if (dbias) dbias[i0 + i] = static_cast<float>(sumB[i]);
            }
        }
    });
}

}  // namespace raven::cpu::kernels
