#pragma once
// Dropout on a Vulkan device with the CPU kernel's counter-based mask (core/cpu/kernels/Dropout.h):
// element i is kept when the uniform of Philox4x32-10 word (seed, offset + i) is >= p and then scaled
// by 1 / (1 - p). The shader (compute-shaders/layer_dropout.comp with include/layer_philox.glsl)
// implements the same Philox, so the mask equals the CPU's bit for bit on every device, and the
// backward regenerates it rather than storing it.
//
// x, y (dy, dx) are float32 [count]. Nothing is submitted here.
#include "cpu/kernels/Dropout.h"
#include "vulkan/Memory.h"

namespace raven::vulkan {
class Device;
class Recorder;
}  // namespace raven::vulkan

namespace raven::vulkan::layers {

void dropoutForward(Device& device, Recorder& recorder, const cpu::kernels::DropoutShape& shape, const BufferRange& x,
                    const BufferRange& y);

// WRITES dx = dy * mask / (1 - p), the mask regenerated from seed and offset.
void dropoutBackward(Device& device, Recorder& recorder, const cpu::kernels::DropoutShape& shape, const BufferRange& dy,
                     const BufferRange& dx);

}  // namespace raven::vulkan::layers
