#pragma once
// Scaled dot-product attention on a Vulkan device, forward and backward, with the CPU kernel's shapes
// (core/cpu/kernels/Attention.h): q [B, H, Tq, D], k [B, H, Tk, D], v [B, H, Tk, Dv],
// out [B, H, Tq, Dv], probs [B, H, Tq, Tk] saved by the forward for the backward.
//
// Forward:  probs = softmax(scale * q k^T, causal mask)   (a batched product, then a row softmax with
//           raven_math.glsl's exp; masked probabilities are exactly 0)
//           out = probs v
// Backward: dv = probs^T dout;  dP = dout v^T;  dS = probs * (dP - rowsum(probs * dP)) * scale;
//           dq = dS k;  dk = dS^T q.
// dS needs a scratch buffer of attentionBackwardScratchFloats() floats (the size of probs), which the
// caller owns so that nothing is allocated while recording. Every sum runs in a fixed order: results
// repeat bit for bit, and agree with the CPU to float rounding (the driver's exp may differ from
// std::exp by a few ulp).
//
// Nothing is submitted here.
#include "cpu/kernels/Attention.h"
#include "vulkan/Memory.h"

#include <cstdint>

namespace raven::vulkan {
class Device;
class Recorder;
}  // namespace raven::vulkan

namespace raven::vulkan::layers {

void attentionForward(Device& device, Recorder& recorder, const cpu::kernels::AttentionShape& shape,
                      const BufferRange& q, const BufferRange& k, const BufferRange& v, const BufferRange& out,
                      const BufferRange& probs);

// Floats of scratch that attentionBackward needs when dq or dk is wanted: B * H * Tq * Tk.
std::uint64_t attentionBackwardScratchFloats(const cpu::kernels::AttentionShape& shape);

// WRITES dq, dk, dv (any may be absent) from dout [B, H, Tq, Dv] and the forward's probs. scratch is
// overwritten; it may be absent when neither dq nor dk is wanted.
void attentionBackward(Device& device, Recorder& recorder, const cpu::kernels::AttentionShape& shape,
                       const BufferRange& q, const BufferRange& k, const BufferRange& v, const BufferRange& probs,
                       const BufferRange& dout, const BufferRange& dq, const BufferRange& dk, const BufferRange& dv,
                       const BufferRange& scratch);

}  // namespace raven::vulkan::layers
