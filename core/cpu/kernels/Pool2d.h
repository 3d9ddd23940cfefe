#pragma once
// 2-D max and average pooling over each channel of a contiguous float32 NCHW tensor, forward and
// backward, with PyTorch's semantics (torch.nn.functional.max_pool2d / avg_pool2d, ceil_mode=False).
//
//   x is [N, C, H, W];  y is [N, C, outH, outW]
//   outH = (H + 2*padH - kernelH) / strideH + 1   (floor)
//
// Max pooling treats padding as -infinity and lets NaN win, as PyTorch does; it keeps, per output, the
// index of the chosen input inside its H*W plane (PyTorch's `indices`), which the backward pass uses.
// Average pooling divides by the whole window including padding (PyTorch's default
// count_include_pad=True) or, when countIncludePad is false, by the number of input elements inside it.
// Padding may be at most half the kernel (PyTorch's rule), so every window holds an input element.
//
// Determinism: planes (n, c) run in parallel; inside a plane the backward visits outputs in raster
// order, so overlapping windows add their gradients in a fixed order.
#include <cstdint>

#include "cpu/kernels/Parallel.h"
#include "tensor/LayerShapes.h"

namespace raven::cpu::kernels {

using raven::Pool2dShape;  // tensor/LayerShapes.h

// y and argmax are [N, C, outH, outW]; argmax[o] = ih * W + iw of the input that y[o] took.
void max_pool2d_forward(const Pool2dShape& shape, const float* x, float* y, int64_t* argmax,
                        const ParallelFor& parallel = {});
// WRITES dx [N, C, H, W] from dy [N, C, outH, outW] and the forward's argmax.
void max_pool2d_backward(const Pool2dShape& shape, const int64_t* argmax, const float* dy, float* dx,
                         const ParallelFor& parallel = {});

// Average pooling divides each window's sum by its size: with `verifiable`, by VerifiableMath's vDiv
// (the verifiable kernel mode, tensor/KernelMode.h: the same bits as verifiable_avg_pool2d.comp),
// otherwise by the CPU's division. The sums have one fixed order either way.
void avg_pool2d_forward(const Pool2dShape& shape, const float* x, float* y, bool countIncludePad = true,
                        const ParallelFor& parallel = {}, bool verifiable = false);
// WRITES dx [N, C, H, W] from dy [N, C, outH, outW].
void avg_pool2d_backward(const Pool2dShape& shape, const float* dy, float* dx, bool countIncludePad = true,
                         const ParallelFor& parallel = {}, bool verifiable = false);

}  // namespace raven::cpu::kernels
