#pragma once
// Scaled dot-product attention, forward and backward, per batch and head:
//
//   out = softmax(scale * q k^T + mask) v
//
//   q     is [B, H, Tq, D]      k is [B, H, Tk, D]      v is [B, H, Tk, Dv]
//   out   is [B, H, Tq, Dv]
//   probs is [B, H, Tq, Tk]: the softmax probabilities, saved by the forward for the backward
//         (fine at Raven's sizes; a fused kernel that recomputes them can replace this later)
//
// scale is 1/sqrt(D) unless set. With causal, query i attends to keys 0..i only (the mask is aligned at
// the top left, as PyTorch's is_causal: with Tq = Tk it is the usual language-model mask); masked
// probabilities are exactly zero. Each (batch, head) is independent and they run in parallel; inside
// one, GEMMs of fixed sizes and row sums in key order.
#include <cstdint>

#include "cpu/kernels/Parallel.h"
#include "tensor/LayerShapes.h"

namespace raven::cpu::kernels {

using raven::AttentionShape;  // tensor/LayerShapes.h

void attention_forward(const AttentionShape& shape, const float* q, const float* k, const float* v, float* out,
                       float* probs, const ParallelFor& parallel = {});

// WRITES dq, dk, dv (any may be null) from dout [B, H, Tq, Dv] and the forward's probs.
void attention_backward(const AttentionShape& shape, const float* q, const float* k, const float* v, const float* probs,
                        const float* dout, float* dq, float* dk, float* dv, const ParallelFor& parallel = {});

}  // namespace raven::cpu::kernels
