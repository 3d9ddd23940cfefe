#pragma once
// Layer normalization on a Vulkan device, forward and backward, with the CPU kernel's shapes
// (core/cpu/kernels/LayerNorm.h): x and y [rows, features], weight and bias [features] or absent,
// mean and rstd [rows] saved by the forward (rstd = 1/sqrt(biased variance + eps)).
//
// The forward and dx run one workgroup per row with a fixed reduction tree (float accumulation; the
// CPU sums in double, so results agree to float rounding). dweight and dbias run one invocation per
// feature summing the rows in order: no atomics, bit-identical from run to run.
//
// An absent operand is a default-constructed BufferRange. Nothing is submitted here.
#include "cpu/kernels/LayerNorm.h"
#include "vulkan/Memory.h"

namespace raven::vulkan {
class Device;
class Recorder;
}  // namespace raven::vulkan

namespace raven::vulkan::layers {

void layerNormForward(Device& device, Recorder& recorder, const cpu::kernels::LayerNormShape& shape,
                      const BufferRange& x, const BufferRange& weight, const BufferRange& bias, const BufferRange& y,
                      const BufferRange& mean, const BufferRange& rstd);

// WRITES dx [rows, features], dweight and dbias [features]; any may be absent.
void layerNormBackward(Device& device, Recorder& recorder, const cpu::kernels::LayerNormShape& shape,
                       const BufferRange& x, const BufferRange& weight, const BufferRange& mean,
                       const BufferRange& rstd, const BufferRange& dy, const BufferRange& dx,
                       const BufferRange& dweight, const BufferRange& dbias);

}  // namespace raven::vulkan::layers
