#pragma once
// 2-D convolution on a Vulkan device, forward and backward, with the CPU kernel's shapes and semantics
// (core/cpu/kernels/Conv2d.h: NCHW, weight [K, C/groups, kH, kW], stride, padding, dilation, groups).
//
// All three products are one implicit-GEMM shader (compute-shaders/layer_conv2d.comp) that gathers
// its tiles straight from the NCHW tensors, tiled in shared memory with tile sizes chosen per device:
//   forward          y  = W * im2col(x) + bias        (M = K/groups, N = batch*outH*outW)
//   input gradient   dx = W^T * gather(dy)             (M = C/groups, N = batch*H*W; a gather, no col2im scatter)
//   weight gradient  dW = dy * im2col(x)^T             (M = K/groups, N = C/groups*kH*kW, summed over the
//                                                       whole batch in order: no atomics; where M*N is
//                                                       small and the batch large, in slices of the batch
//                                                       summed by a second pass, weightGradientSplit)
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

#include <cstdint>

namespace raven::vulkan {
class Device;
class Recorder;
}  // namespace raven::vulkan

namespace raven::vulkan::layers {

// y [N, K, outH, outW] = conv2d(x [N, C, H, W], weight, bias [K] or absent).
void conv2dForward(Device& device, Recorder& recorder, const cpu::kernels::Conv2dShape& shape, const BufferRange& x,
                   const BufferRange& weight, const BufferRange& bias, const BufferRange& y);

// The weight gradient's split of K = batch * outH * outW, from the shape alone so that every device sums
// the same slices in the same order: when K >= kConvSplitMinK and the gradient has fewer than
// kConvSplitTargetGroups 64x64 tiles (a GPU would run a handful of workgroups down a sum of 100,000
// products), K is cut into slices of a multiple of 256, at least kConvSplitMinSlice deep, enough to
// bring the tiles to about that target, at most kConvSplitMaxSlices and kConvSplitMaxScratchFloats.
struct ConvSplit {
    std::uint32_t splits = 1;
    std::uint32_t kSplit = 0;  // K per slice (the last may be shorter)
};
ConvSplit weightGradientSplit(const cpu::kernels::Conv2dShape& shape);
inline constexpr std::uint64_t kConvSplitMinK = 4096;
inline constexpr std::uint64_t kConvSplitTargetGroups = 256;
inline constexpr std::uint64_t kConvSplitMinSlice = 1024;
inline constexpr std::uint64_t kConvSplitMaxSlices = 64;
inline constexpr std::uint64_t kConvSplitMaxScratchFloats = std::uint64_t{16} << 20;  // 64 MiB
// Floats of scratch conv2dBackward needs for a split weight gradient (0: none), owned by the caller
// so that nothing is allocated while recording.
std::uint64_t conv2dBackwardScratchFloats(const cpu::kernels::Conv2dShape& shape);

// WRITES dx [N, C, H, W], dweight [K, C/groups, kH, kW] and dbias [K] from dy [N, K, outH, outW]; each
// may be absent when not wanted. x is read only for dweight, weight only for dx; scratch (at least
// conv2dBackwardScratchFloats) only for dweight, and may be absent when that is 0.
void conv2dBackward(Device& device, Recorder& recorder, const cpu::kernels::Conv2dShape& shape, const BufferRange& x,
                    const BufferRange& weight, const BufferRange& dy, const BufferRange& dx, const BufferRange& dweight,
                    const BufferRange& dbias, const BufferRange& scratch = {});

}  // namespace raven::vulkan::layers
