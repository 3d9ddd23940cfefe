#pragma once
// Internal to raven_nn: the differentiable operations the layers call, in one place, so that a layer
// file reads as its formula and the seam to the autograd library is here alone.
//
// Linear algebra, activations, shapes and losses come from autograd/Ops.h; conv2d, pooling, the
// norms, embedding, dropout and attention from autograd/LayerOps.h (the fused backend kernels). What
// is left here is the adaptation of a layer's fields to those calls, and the few compositions that
// are layers but not kernels (positional embedding, multi-head self-attention).
#include <cstdint>

#include "autograd/Ops.h"
#include "autograd/Variable.h"

namespace raven::nn::ops {

using raven::add;
using raven::linear;
using raven::relu;
using raven::reshape;
using raven::sigmoid;
using raven::softmax;
using raven::tanh;

struct Conv2dParams {
    std::int64_t channels = 1, outChannels = 1;
    std::int64_t kernelH = 1, kernelW = 1, strideH = 1, strideW = 1, padH = 0, padW = 0;
    std::int64_t dilationH = 1, dilationW = 1, groups = 1;
    bool bias = true;
};

struct Pool2dParams {
    bool max = true;
    std::int64_t kernelH = 1, kernelW = 1, strideH = 1, strideW = 1, padH = 0, padW = 0;
    bool countIncludePad = true;
};

std::int64_t batchSize(const Variable& x);
Variable gelu(const Variable& x, bool tanhApproximation);
// x [B, C, H, W] -> [B, K, outH, outW]
Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias, const Conv2dParams& p);
Variable pool2d(const Variable& x, const Pool2dParams& p);
// Over the last axis; weight and bias [features] or undefined.
Variable layerNorm(const Variable& x, const Variable& weight, const Variable& bias, float eps);
// x [B, C] or [B, C, H, W]; running statistics updated in training (PyTorch's unbiased running variance).
Variable batchNorm(const Variable& x, const Variable& weight, const Variable& bias, Tensor& runningMean,
                   Tensor& runningVar, Tensor& batchesTracked, bool training, float eps, float momentum);
// ids [B, T] (integer-valued floats) -> [B, T, dim]; an id outside [0, num) is a raven::Error.
Variable embedding(const Variable& ids, const Variable& weight);
// x [B, T, d] + weight[0:T] broadcast over the batch.
Variable addPositions(const Variable& x, const Variable& weight);
Variable dropout(const Variable& x, float p, std::uint64_t seed);
// x [B, T, d] -> [B, T, d], PyTorch's nn.MultiheadAttention(batch_first=True) self-attention.
Variable selfAttention(const Variable& x, const Variable& inWeight, const Variable& inBias, const Variable& outWeight,
                       const Variable& outBias, std::int64_t heads, bool causal);

}  // namespace raven::nn::ops
