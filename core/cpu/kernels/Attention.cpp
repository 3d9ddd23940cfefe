#include "cpu/kernels/Attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "cpu/kernels/Checks.h"
#include "cpu/kernels/EigenMaps.h"

namespace raven::cpu::kernels {

using detail::matrix;

void attention_forward(const AttentionShape& s, const float* q, const float* k, const float* v, float* out,
                       float* probs, const ParallelFor& parallel) {
    s.validate();
    const int64_t tq = s.queryLength, tk = s.keyLength, d = s.headDim, dv = s.valueDim;
    const float scale = s.effectiveScale();
    forEachItem(parallel, s.batch * s.heads, [&](int64_t begin, int64_t end) {
        for (int64_t bh = begin; bh < end; ++bh) {
            auto p = matrix(probs + bh * tq * tk, tq, tk);
            p.noalias() = matrix(q + bh * tq * d, tq, d) * matrix(k + bh * tk * d, tk, d).transpose();
            for (int64_t i = 0; i < tq; ++i) {
                float* row = probs + (bh * tq + i) * tk;
                const int64_t visible = s.causal ? std::min(tk, i + 1) : tk;
                float largest = -std::numeric_limits<float>::infinity();
                for (int64_t j = 0; j < visible; ++j) largest = std::max(largest, row[j] * scale);
                double sum = 0.0;
                for (int64_t j = 0; j < visible; ++j) {
                    row[j] = std::exp(row[j] * scale - largest);
                    sum += row[j];
                }
                const float inverse = static_cast<float>(1.0 / sum);
                for (int64_t j = 0; j < visible; ++j) row[j] *= inverse;
                std::fill(row + visible, row + tk, 0.0f);
            }
            matrix(out + bh * tq * dv, tq, dv).noalias() = p * matrix(v + bh * tk * dv, tk, dv);
        }
    });
}

void attention_backward(const AttentionShape& s, const float* q, const float* k, const float* v, const float* probs,
                        const float* dout, float* dq, float* dk, float* dv, const ParallelFor& parallel) {
    s.validate();
    const int64_t tq = s.queryLength, tk = s.keyLength, d = s.headDim, dvDim = s.valueDim;
    const float scale = s.effectiveScale();
    forEachItem(parallel, s.batch * s.heads, [&](int64_t begin, int64_t end) {
        std::vector<float> scoresGrad(static_cast<size_t>(tq * tk));
        for (int64_t bh = begin; bh < end; ++bh) {
            auto p = matrix(probs + bh * tq * tk, tq, tk);
            auto gradOut = matrix(dout + bh * tq * dvDim, tq, dvDim);
            if (dv) matrix(dv + bh * tk * dvDim, tk, dvDim).noalias() = p.transpose() * gradOut;
            if (!dq && !dk) continue;
            // dP = dO v^T, then through the softmax: dS_ij = P_ij * (dP_ij - sum_j' P_ij' dP_ij').
            auto ds = matrix(scoresGrad.data(), tq, tk);
            ds.noalias() = gradOut * matrix(v + bh * tk * dvDim, tk, dvDim).transpose();
            for (int64_t i = 0; i < tq; ++i) {
                const float* prow = probs + (bh * tq + i) * tk;
                float* row = scoresGrad.data() + i * tk;
                double dot = 0.0;
                for (int64_t j = 0; j < tk; ++j) dot += static_cast<double>(prow[j]) * row[j];
                for (int64_t j = 0; j < tk; ++j) row[j] = prow[j] * (row[j] - static_cast<float>(dot)) * scale;
            }
            if (dq) matrix(dq + bh * tq * d, tq, d).noalias() = ds * matrix(k + bh * tk * d, tk, d);
            if (dk) matrix(dk + bh * tk * d, tk, d).noalias() = ds.transpose() * matrix(q + bh * tq * d, tq, d);
        }
    });
}

}  // namespace raven::cpu::kernels
