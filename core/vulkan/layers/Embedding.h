#pragma once
// Embedding lookup on a Vulkan device, forward and backward, with the CPU kernel's shape
// (core/cpu/kernels/Embedding.h): weight [vocabulary, dim], y [count, dim].
//
// indices [count] are float32 holding integers, the Backend's convention for integer data (exact below
// 2^24). A shader cannot throw, so an index that is not an integer in [0, vocabulary) yields a row of
// NaN in the forward and contributes to no row in the backward; callers that can see the indices check
// them first (the host convenience in HostRun.h does).
//
// The backward is a gather with no atomics: row v of dweight walks the positions in order and adds dy
// wherever indices[i] == v, so repeated indices sum in position order (the CPU's order), and the result
// repeats bit for bit. It costs vocabulary * count index comparisons (cheap, uniform across a
// workgroup) plus count * dim additions; rows never indexed and the padding row are zero.
#include "cpu/kernels/Embedding.h"
#include "vulkan/Memory.h"

namespace raven::vulkan {
class Device;
class Recorder;
}  // namespace raven::vulkan

namespace raven::vulkan::layers {

void embeddingForward(Device& device, Recorder& recorder, const cpu::kernels::EmbeddingShape& shape,
                      const BufferRange& indices, const BufferRange& weight, const BufferRange& y);

// WRITES dweight [vocabulary, dim] from dy [count, dim].
void embeddingBackward(Device& device, Recorder& recorder, const cpu::kernels::EmbeddingShape& shape,
                       const BufferRange& indices, const BufferRange& dy, const BufferRange& dweight);

}  // namespace raven::vulkan::layers
