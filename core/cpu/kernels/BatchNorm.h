#pragma once
// Batch normalization per channel (torch.nn.functional.batch_norm) for 2-D [N, C] and 4-D [N, C, H, W]
// inputs, forward in training and evaluation mode, backward in both.
//
//   x, y        are [N, C, spatial]: spatial = H * W for a 4-D input, 1 for a 2-D one
//   weight      is [C] or absent (then 1);  bias is [C] or absent (then 0)
//   runningMean, runningVar are [C]: read in evaluation; in training updated as PyTorch does,
//               running = (1 - momentum) * running + momentum * batch statistic, where the variance
//               that enters the running estimate is the UNBIASED one (divided by N*spatial - 1) while
//               the one that normalizes is the biased one. They may be null in training (no update).
//   savedMean, savedInvstd are [C], written by the forward for the backward: the batch mean and
//               1/sqrt(biased variance + eps) in training, the running ones in evaluation.
//
// Channels run in parallel; every sum runs over samples, then positions, in order, in double.
#include <cstdint>

#include "cpu/kernels/Parallel.h"
#include "tensor/LayerShapes.h"

namespace raven::cpu::kernels {

using raven::BatchNormShape;  // tensor/LayerShapes.h

void batch_norm_forward(const BatchNormShape& shape, bool training, const float* x, const float* weight,
                        const float* bias, float* runningMean, float* runningVar, float* y, float* savedMean,
                        float* savedInvstd, const ParallelFor& parallel = {});

// WRITES dx [N, C, spatial], dweight [C], dbias [C] (any may be null) from dy and what the forward saved.
// In training dx includes the dependence of the batch statistics on x; in evaluation it does not.
void batch_norm_backward(const BatchNormShape& shape, bool training, const float* x, const float* weight,
                         const float* savedMean, const float* savedInvstd, const float* dy, float* dx, float* dweight,
                         float* dbias, const ParallelFor& parallel = {});

}  // namespace raven::cpu::kernels
