#pragma once
// 2-D convolution on a Vulkan device, forward and backward, with the CPU kernel's shapes and semantics
// (core/cpu/kernels/Conv2d.h: NCHW, weight [K, C/groups, kH, kW], stride, padding, dilation, groups).
//
// All three products are one implicit-GEMM shader (compute-shaders/layer_conv2d.comp) that gathers
// its tiles straight from the NCHW tensors, tiled in shared memory with tile sizes chosen per device:
//   forward          y  = W * im2col(x) + bias        (M = K/groups, N = batch*outH*outW)
//   input gradient   dx = W^T * gather(dy)             (M = C/groups, N = batch*H*W; a gather, no col2im scatter)
//   weight gradient  dW = dy * im2col(x)^T             (M = K/groups, N = C/groups*kH*kW, summed over the
//                                                       whole batch in order: no atomics)
//   bias gradient    db[k] = sum of dy[:, k] (layer_channel_sum.comp, a fixed tree per channel)
//
//   Recorder rec(device);
//   conv2dForward(device, rec, shape, x.range(), w.range(), b.range(), y.range());
//   rec.submit();
//
// Operands are float32 BufferRanges of at least the sizes the shape implies; an absent operand (no
// bias, a gradient not wanted) is a default-constructed BufferRange. Nothing is submitted here.
// Results equal the CPU's up to float rounding (sums run in a different order than Eigen's GEMM) and
// repeat bit for bit on the same device.
#include "cpu/kernels/Conv2d.h"
#include "vulkan/Memory.h"

namespace raven::vulkan {
class Device;
class Recorder;
}  // namespace raven::vulkan

namespace raven::vulkan::layers {

// y [N, K, outH, outW] = conv2d(x [N, C, H, W], weight, bias [K] or absent).
void conv2dForward(Device& device, Recorder& recorder, const cpu::kernels::Conv2dShape& shape, const BufferRange& x,
                   const BufferRange& weight, const BufferRange& bias, const BufferRange& y);

// WRITES dx [N, C, H, W], dweight [K, C/groups, kH, kW] and dbias [K] from dy [N, K, outH, outW]; each
// may be absent when not wanted. x is read only for dweight, weight only for dx.
void conv2dBackward(Device& device, Recorder& recorder, const cpu::kernels::Conv2dShape& shape, const BufferRange& x,
                    const BufferRange& weight, const BufferRange& dy, const BufferRange& dx, const BufferRange& dweight,
                    const BufferRange& dbias);

}  // namespace raven::vulkan::layers
