#pragma once
// 2-D max and average pooling on a Vulkan device, forward and backward, with the CPU kernel's shapes
// and semantics (core/cpu/kernels/Pool2d.h: padding as -infinity for max, NaN wins, count_include_pad
// for average, ceil_mode=False).
//
// argmax is float32 holding ih * W + iw of the chosen input inside its plane, as the Backend's
// MaxPool2dResult carries it (exact below 2^24 elements per plane). The backward passes are gathers:
// one invocation per input element sums the outputs whose window covers it, in raster order, so there
// are no atomics and the order equals the CPU kernel's.
//
// Operands are float32 BufferRanges of at least the sizes the shape implies. Nothing is submitted here.
#include "cpu/kernels/Pool2d.h"
#include "vulkan/Memory.h"

namespace raven::vulkan {
class Device;
class Recorder;
}  // namespace raven::vulkan

namespace raven::vulkan::layers {

// y and argmax [N, C, outH, outW] from x [N, C, H, W]. `verifiable`: compute-shaders/verifiable_max_pool2d.comp,
// the verifiable kernel mode's twin of the CPU kernel (the same results, every float `precise`).
void maxPool2dForward(Device& device, Recorder& recorder, const cpu::kernels::Pool2dShape& shape, const BufferRange& x,
                      const BufferRange& y, const BufferRange& argmax, bool verifiable = false);
// WRITES dx [N, C, H, W] from dy [N, C, outH, outW] and the forward's argmax.
void maxPool2dBackward(Device& device, Recorder& recorder, const cpu::kernels::Pool2dShape& shape,
                       const BufferRange& argmax, const BufferRange& dy, const BufferRange& dx,
                       bool verifiable = false);

// With `verifiable`, verifiable_avg_pool2d.comp: the CPU's verifiable avg_pool2d bits (its sums in the
// same order, VerifiableMath's division).
void avgPool2dForward(Device& device, Recorder& recorder, const cpu::kernels::Pool2dShape& shape, const BufferRange& x,
                      const BufferRange& y, bool countIncludePad = true, bool verifiable = false);
// WRITES dx [N, C, H, W] from dy [N, C, outH, outW].
void avgPool2dBackward(Device& device, Recorder& recorder, const cpu::kernels::Pool2dShape& shape,
                       const BufferRange& dy, const BufferRange& dx, bool countIncludePad = true,
                       bool verifiable = false);

}  // namespace raven::vulkan::layers
