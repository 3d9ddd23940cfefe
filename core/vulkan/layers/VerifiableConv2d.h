#pragma once
// 2-D convolution in the verifiable kernel mode (tensor/KernelMode.h, docs/verification.md): the same
// bits as the CPU's conv2d_forward / conv2d_backward with sgemmFixedOrder (core/cpu/kernels/Conv2d.h),
// on any device that passed the verifiable gate. compute-shaders/verifiable_conv2d.comp reads im2col's
// entries straight from x and sums every product in the CPU's order, one invocation per result:
//   forward          y[n, k, q]  = 1 * bias[k] + (acc over r of w[k, r] * col[r, q])
//   input gradient   dx          = col2im's gather of dcol = w^T dy (one invocation per input element)
//   weight gradient  dw[k, r]    = per-sample products (into scratch, one invocation per sample and
//                                  weight), then the CPU's chunks of samples and the chunks in order
// and verifiable_conv2d_bias.comp the bias gradient (the CPU's eight double lanes; needs shaderFloat64).
//
//   Recorder rec(device);
//   verifiableConv2dForward(device, rec, shape, x.range(), w.range(), b.range(), y.range());
//
// Operands as in Conv2d.h: float32 BufferRanges of at least the sizes the shape implies; an absent
// operand is a default-constructed BufferRange. Nothing is submitted here.
#include "cpu/kernels/Conv2d.h"
#include "vulkan/Memory.h"

#include <cstdint>

namespace raven::vulkan {
class Device;
class Recorder;
}  // namespace raven::vulkan

namespace raven::vulkan::layers {

void verifiableConv2dForward(Device& device, Recorder& recorder, const cpu::kernels::Conv2dShape& shape,
                             const BufferRange& x, const BufferRange& weight, const BufferRange& bias,
                             const BufferRange& y);

// Floats of scratch verifiableConv2dBackward's weight gradient needs (batch x weights, one per-sample
// product each), or 0 where that would pass kVerifiableConvMaxScratchFloats: the per-sample products are
// then computed inside the combining pass (the same bits, batch-fold less parallel).
std::uint64_t verifiableConv2dBackwardScratchFloats(const cpu::kernels::Conv2dShape& shape);
inline constexpr std::uint64_t kVerifiableConvMaxScratchFloats = std::uint64_t{32} << 20;  // 128 MiB

// Floats of scratch the bias gradient needs: eight double lanes per output channel, carried from one
// window of its sum to the next.
std::uint64_t verifiableConv2dBiasScratchFloats(const cpu::kernels::Conv2dShape& shape);
// Terms of a channel's bias-gradient sum one dispatch adds: lavapipe (llvmpipe) ends any invocation's
// loops after 65535 iterations in all, so a longer sum is added in windows of this many terms, each
// dispatch continuing from the lanes the previous one left (the same order, so the same bits).
inline constexpr std::uint64_t kVerifiableConvBiasWindow = 32768;

// WRITES dx, dweight and dbias from dy as conv2dBackward (Conv2d.h); each may be absent. A bias
// gradient on a device without shaderFloat64 is refused (raven::Error) before anything is recorded.
// `scratch` as verifiableConv2dBackwardScratchFloats (for dweight), `biasScratch` as
// verifiableConv2dBiasScratchFloats (for dbias).
void verifiableConv2dBackward(Device& device, Recorder& recorder, const cpu::kernels::Conv2dShape& shape,
                              const BufferRange& x, const BufferRange& weight, const BufferRange& dy,
                              const BufferRange& dx, const BufferRange& dweight, const BufferRange& dbias,
                              const BufferRange& scratch, const BufferRange& biasScratch);

}  // namespace raven::vulkan::layers
