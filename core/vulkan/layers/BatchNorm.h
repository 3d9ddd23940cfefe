#pragma once
// Batch normalization on a Vulkan device, training and evaluation, forward and backward, with the CPU
// kernel's shapes (core/cpu/kernels/BatchNorm.h): x, y [N, C, spatial]; weight, bias, runningMean,
// runningVar, savedMean, savedInvstd [C].
//
// Training normalizes with the batch mean and biased variance and, where bound, UPDATES runningMean and
// runningVar in place: running = (1 - momentum) * running + momentum * statistic, the variance entering
// it unbiased. Evaluation normalizes with the running statistics (both required). savedMean and
// savedInvstd are what normalized, for the backward pass.
//
// One workgroup per channel with a fixed reduction tree: bit-identical from run to run; float
// accumulation (the CPU sums in double), so results agree with it to float rounding.
// An absent operand is a default-constructed BufferRange. Nothing is submitted here.
#include "cpu/kernels/BatchNorm.h"
#include "vulkan/Memory.h"

namespace raven::vulkan {
class Device;
class Recorder;
}  // namespace raven::vulkan

namespace raven::vulkan::layers {

void batchNormForward(Device& device, Recorder& recorder, const cpu::kernels::BatchNormShape& shape, bool training,
                      const BufferRange& x, const BufferRange& weight, const BufferRange& bias,
                      const BufferRange& runningMean, const BufferRange& runningVar, const BufferRange& y,
                      const BufferRange& savedMean, const BufferRange& savedInvstd);

// WRITES dx [N, C, spatial], dweight [C], dbias [C] (any may be absent) from dy and what the forward
// saved. In training dx includes the dependence of the batch statistics on x.
void batchNormBackward(Device& device, Recorder& recorder, const cpu::kernels::BatchNormShape& shape, bool training,
                       const BufferRange& x, const BufferRange& weight, const BufferRange& savedMean,
                       const BufferRange& savedInvstd, const BufferRange& dy, const BufferRange& dx,
                       const BufferRange& dweight, const BufferRange& dbias);

}  // namespace raven::vulkan::layers
