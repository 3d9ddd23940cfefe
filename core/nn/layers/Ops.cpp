#include "nn/layers/Ops.h"

#include "autograd/LayerOps.h"

namespace raven::nn::ops {

std::int64_t batchSize(const Variable& x) { return x.size(0); }

Variable gelu(const Variable& x, bool tanhApproximation) {
    return raven::gelu(x, tanhApproximation ? GeluApproximation::Tanh : GeluApproximation::None);
}

Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias, const Conv2dParams& p) {
    Conv2dOptions options;
    options.stride = Size2d(p.strideH, p.strideW);
    options.padding = Size2d(p.padH, p.padW);
    options.dilation = Size2d(p.dilationH, p.dilationW);
    options.groups = p.groups;
    return raven::conv2d(x, weight, bias, options);
}

Variable pool2d(const Variable& x, const Pool2dParams& p) {
    const Size2d kernel(p.kernelH, p.kernelW), stride(p.strideH, p.strideW), padding(p.padH, p.padW);
    if (p.max) return maxPool2d(x, kernel, stride, padding);
    return avgPool2d(x, kernel, stride, padding, p.countIncludePad);
}

Variable layerNorm(const Variable& x, const Variable& weight, const Variable& bias, float eps) {
    return raven::layerNorm(x, {x.size(-1)}, weight, bias, eps);
}

Variable batchNorm(const Variable& x, const Variable& weight, const Variable& bias, Tensor& runningMean,
                   Tensor& runningVar, Tensor& batchesTracked, bool training, float eps, float momentum) {
    if (training) batchesTracked = addScalar(batchesTracked, 1.0f);
    return raven::batchNorm(x, weight, bias, runningMean, runningVar, training, momentum, eps);
}

Variable embedding(const Variable& ids, const Variable& weight) { return raven::embedding(ids.tensor(), weight); }

Variable addPositions(const Variable& x, const Variable& weight) { return add(x, narrow(weight, 0, 0, x.size(1))); }

Variable dropout(const Variable& x, float p, std::uint64_t seed) { return raven::dropout(x, p, true, seed, 0); }

Variable selfAttention(const Variable& x, const Variable& inWeight, const Variable& inBias, const Variable& outWeight,
                       const Variable& outBias, std::int64_t heads, bool causal) {
    const std::int64_t batch = x.size(0), length = x.size(1), d = x.size(2), headDim = d / heads;
    const Variable qkv = linear(x, inWeight, inBias);  // [B, T, 3d]
    auto split = [&](std::int64_t part) {              // -> [B, H, T, hd]
        return permute(reshape(narrow(qkv, 2, part * d, d), {batch, length, heads, headDim}), {0, 2, 1, 3});
    };
    const Variable q = split(0), k = split(1), v = split(2);
    const Variable attended = scaledDotProductAttention(q, k, v, causal);  // [B, H, T, hd]
    const Variable merged = reshape(permute(attended, {0, 2, 1, 3}), {batch, length, d});
    return linear(merged, outWeight, outBias);
}

}  // namespace raven::nn::ops
