#pragma once
// Dropout (torch.nn.functional.dropout in training), driven by a counter-based generator so that the
// mask is a pure function of (seed, element index): threads, chunking and devices cannot change it,
// and the backward regenerates the mask instead of storing it.
//
//   x, y are [count] (any shape, flattened)
//   element i uses the random word of stream `seed` at position offset + i (Philox.h); it is kept when
//   uniform(word) >= p, and a kept element is scaled by 1 / (1 - p). p = 1 drops everything.
//
// The offset lets a caller draw fresh masks from one seed (advance it by count after each call) or
// compute one large tensor in pieces. In evaluation, dropout is the identity and is not called.
// PyTorch draws its masks differently, so masks match PyTorch's in distribution, not bit for bit.
#include <cstdint>

#include "cpu/kernels/Parallel.h"

namespace raven::cpu::kernels {

struct DropoutShape {
    int64_t count = 0;
    float p = 0.5f;  // probability of dropping an element, in [0, 1]
    uint64_t seed = 0;
    uint64_t offset = 0;

    // Throws raven::Error when p is outside [0, 1] or count is negative.
    void validate() const;
};

// Whether element `element` (offset already added) of stream `seed` survives dropout with probability p.
bool dropout_keeps(uint64_t seed, uint64_t element, float p);

void dropout_forward(const DropoutShape& shape, const float* x, float* y, const ParallelFor& parallel = {});

// WRITES dx = dy * mask / (1 - p), the mask regenerated from seed and offset.
void dropout_backward(const DropoutShape& shape, const float* dy, float* dx, const ParallelFor& parallel = {});

}  // namespace raven::cpu::kernels
