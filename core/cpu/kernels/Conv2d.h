#pragma once
// 2-D convolution (really cross-correlation, as in PyTorch's torch.nn.functional.conv2d), forward and
// backward, on contiguous float32 NCHW tensors.
//
//   x      is [N, C, H, W]                       (input)
//   weight is [K, C / groups, kernelH, kernelW]   (PyTorch's layout, so weights move by name)
//   bias   is [K] or absent
//   y      is [N, K, outH, outW]  with outH = (H + 2*padH - dilationH*(kernelH-1) - 1) / strideH + 1
//
// Channels are split into `groups` equal groups; output channel group g sees input channel group g only.
// Implementation: im2col per sample and one GEMM (Eigen) per sample and group; a 1x1 kernel with
// stride 1 and no padding uses the input directly. Samples run in parallel.
//
// Determinism: each output element is one GEMM of fixed sizes; the weight gradient is summed per fixed
// chunk of samples (chunks depend on N only) and the chunks are added in order; the bias gradient sums
// samples, then positions, in order. No result depends on the number of threads.
#include <cstdint>

#include "cpu/kernels/Gemm.h"
#include "cpu/kernels/Parallel.h"
#include "cpu/kernels/VerifiableGemm.h"
#include "tensor/LayerShapes.h"

namespace raven::cpu::kernels {

using raven::Conv2dShape;  // tensor/LayerShapes.h

// y = conv2d(x, weight, bias). bias may be null. `gemm` computes the products: sgemm (fast) or
// sgemmFixedOrder (the verifiable mode; every other step here already has a fixed order).
void conv2d_forward(const Conv2dShape& shape, const float* x, const float* weight, const float* bias, float* y,
                    const ParallelFor& parallel = {}, SgemmFn gemm = &sgemm);

// Samples per chunk of the weight gradient: a function of the batch alone (at most 16 chunks), so that
// the order in which per-sample contributions are added never depends on the threads. Chunk c sums
// samples [c * chunk, (c + 1) * chunk) in order (the first as the product alone, each next one as
// 1 * sum + product), and the chunks are added in order: the verifiable shader follows the same plan.
int64_t conv2dWeightGradientChunk(int64_t batch);

// Given dy (the gradient of the loss with respect to y, [N, K, outH, outW]), WRITES (overwrites)
// dx [N, C, H, W], dweight [K, C/groups, kernelH, kernelW] and dbias [K]. Any of the three may be null
// when that gradient is not wanted; x is needed only for dweight, weight only for dx.
void conv2d_backward(const Conv2dShape& shape, const float* x, const float* weight, const float* dy, float* dx,
                     float* dweight, float* dbias, const ParallelFor& parallel = {}, SgemmFn gemm = &sgemm);

}  // namespace raven::cpu::kernels
