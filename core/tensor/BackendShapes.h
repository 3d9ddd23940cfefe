#pragma once
// The kernels' shape structs from what a Backend virtual receives (tensor shapes and the geometry
// structs of tensor/Backend.h). One translation for every backend that runs these kernels or their
// shader twins, so the CPU and Vulkan backends cannot disagree on a layer's shape.
// Header-only.
#include <algorithm>

#include "base/Error.h"
#include "tensor/LayerShapes.h"
#include "tensor/Backend.h"

namespace raven {

inline Conv2dShape convShape(const Shape& x, const Shape& weightShape, const Conv2dGeometry& g) {
    RAVEN_ASSERT(x.size() == 4 && weightShape.size() == 4, "conv2d: x and weight must be 4-D");
    return Conv2dShape{.batch = x[0],
                       .inChannels = x[1],
                       .height = x[2],
                       .width = x[3],
                       .outChannels = weightShape[0],
                       .kernelH = weightShape[2],
                       .kernelW = weightShape[3],
                       .strideH = g.strideH,
                       .strideW = g.strideW,
                       .padH = g.padH,
                       .padW = g.padW,
                       .dilationH = g.dilationH,
                       .dilationW = g.dilationW,
                       .groups = g.groups};
}

inline Pool2dShape poolShape(const Shape& x, const Pool2dWindow& w) {
    RAVEN_ASSERT(x.size() == 4, "pool2d: x must be 4-D");
    return Pool2dShape{.batch = x[0],
                       .channels = x[1],
                       .height = x[2],
                       .width = x[3],
                       .kernelH = w.kernelH,
                       .kernelW = w.kernelW,
                       .strideH = w.strideH,
                       .strideW = w.strideW,
                       .padH = w.padH,
                       .padW = w.padW};
}

inline BatchNormShape batchNormShape(const Tensor& x, float momentum, float eps) {
    RAVEN_ASSERT(x.dim() >= 2, "batchNorm: x must have a batch and a channel dimension");
    return BatchNormShape{.batch = x.size(0),
                          .channels = x.size(1),
                          .spatial = x.numel() / std::max<int64_t>(x.size(0) * x.size(1), 1),
                          .eps = eps,
                          .momentum = momentum};
}

inline AttentionShape attentionShape(const Tensor& q, const Tensor& key, const Tensor& v, bool causal, float scale) {
    RAVEN_ASSERT(q.dim() == 4 && key.dim() == 4 && v.dim() == 4, "attention: q, k, v must be 4-D");
    return AttentionShape{.batch = q.size(0),
                          .heads = q.size(1),
                          .queryLength = q.size(2),
                          .keyLength = key.size(2),
                          .headDim = q.size(3),
                          .valueDim = v.size(3),
                          .causal = causal,
                          .scale = scale};
}

}  // namespace raven
