#pragma once
// Layer normalization over the last dimensions (torch.nn.functional.layer_norm), forward and backward.
//
// The caller flattens the tensor to rows x features: features is the product of the normalized
// (trailing) dimensions, rows the product of the others.
//   x, y       are [rows, features]
//   weight     is [features] or absent (then 1);  bias is [features] or absent (then 0)
//   mean, rstd are [rows]: saved by the forward for the backward; rstd = 1 / sqrt(biased variance + eps)
//
// Statistics and gradient sums accumulate in double, in index order. Rows run in parallel in the
// forward and dx; dweight and dbias run over blocks of features, each summing rows in order.
#include <cstdint>

#include "cpu/kernels/Parallel.h"

namespace raven::cpu::kernels {

struct LayerNormShape {
    int64_t rows = 1;
    int64_t features = 1;
    float eps = 1e-5f;  // PyTorch's default

    // Throws raven::Error when a size is not positive or eps is negative.
    void validate() const;
};

void layer_norm_forward(const LayerNormShape& shape, const float* x, const float* weight, const float* bias, float* y,
                        float* mean, float* rstd, const ParallelFor& parallel = {});

// WRITES dx [rows, features], dweight [features] and dbias [features]; any may be null.
void layer_norm_backward(const LayerNormShape& shape, const float* x, const float* weight, const float* mean,
                         const float* rstd, const float* dy, float* dx, float* dweight, float* dbias,
                         const ParallelFor& parallel = {});

}  // namespace raven::cpu::kernels
