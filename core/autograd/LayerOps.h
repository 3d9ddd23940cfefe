#pragma once
// Differentiable layer ops on Variables: convolution, pooling, normalization, embedding, dropout and
// attention, with PyTorch's semantics and layouts (torch.nn.functional), so that weights and results
// move between Raven and PyTorch unchanged.
//
// Model (as for autograd/Ops.h):
//  - Each op checks its shapes here and throws raven::Error naming the op and the shapes, calls one
//    Backend kernel for its value (tensor/Backend.h, "layer kernels") and records a backward function
//    that calls the matching backward kernel. Nothing here reads values on the host, so a lazily
//    executing backend (Vulkan) can record a whole training step.
//  - Images are NCHW: x [N, C, H, W]. Indices (embedding) are float tensors holding integers exactly
//    (below 2^24), as the class targets of crossEntropy are: Tensors are float32 only.
//  - Optional weights and biases are undefined Variables (`Variable()`); an undefined Tensor for the
//    running statistics of batchNorm means "none".
//  - Determinism: every kernel has a fixed accumulation order (see the backend), and dropout's mask is
//    a pure function of (seed, offset + element index), so a step recomputed anywhere gives the same
//    bits.
//
// What each op keeps for its backward pass: conv2d keeps the weight, and x when the weight needs a
// gradient; maxPool2d keeps the argmax indices; avgPool2d keeps shapes only;
// layerNorm and batchNorm keep x, the weight and the saved statistics; embedding keeps the indices;
// dropout keeps nothing (it regenerates the mask); attention keeps q, k, v and the probabilities.
//
//   Variable h = relu(conv2d(Variable(images), w1, b1, {.padding = 1}));       // [N, 16, 28, 28]
//   h = maxPool2d(h, 2);                                                         // [N, 16, 14, 14]
//   h = dropout(flatten(h, 1), 0.25f, training, seed, step * h.numel());
#include <cstdint>

#include "autograd/Variable.h"

namespace raven {

// A size or a step per spatial axis (height, width); a single number means the same on both.
struct Size2d {
    int64_t h = 1;
    int64_t w = 1;
    Size2d() = default;
    Size2d(int64_t both) : h(both), w(both) {}  // NOLINT(google-explicit-constructor): `2` reads as 2x2
    Size2d(int64_t height, int64_t width) : h(height), w(width) {}
    bool operator==(const Size2d&) const = default;
};

struct Conv2dOptions {
    Size2d stride = 1;
    Size2d padding = 0;  // zeros added on each side
    Size2d dilation = 1;
    int64_t groups = 1;  // in and out channels split into this many independent groups
};

// F.conv2d: x [N, C, H, W], weight [K, C / groups, kH, kW], bias [K] or undefined.
// Returns [N, K, outH, outW], outH = (H + 2 padH - dilationH (kH - 1) - 1) / strideH + 1.
Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias = Variable(),
                const Conv2dOptions& options = {});

// F.max_pool2d (ceil_mode=False, dilation 1): x [N, C, H, W] -> [N, C, outH, outW],
// outH = (H + 2 padH - kH) / strideH + 1. A stride of 0 means the kernel size (PyTorch's default).
// Padding may be at most half the kernel. The gradient goes to the chosen (first maximal) element.
Variable maxPool2d(const Variable& x, Size2d kernel, Size2d stride = 0, Size2d padding = 0);

// F.avg_pool2d (ceil_mode=False): as maxPool2d; divides by the whole window including padding when
// countIncludePad (PyTorch's default), else by the number of input elements inside the window.
Variable avgPool2d(const Variable& x, Size2d kernel, Size2d stride = 0, Size2d padding = 0,
                   bool countIncludePad = true);

// F.layer_norm: normalizes over the trailing dimensions `normalizedShape` of x (biased variance);
// weight and bias have shape normalizedShape, or are undefined (1 and 0).
Variable layerNorm(const Variable& x, const Shape& normalizedShape, const Variable& weight = Variable(),
                   const Variable& bias = Variable(), float eps = 1e-5f);

// F.batch_norm per channel: x [N, C] or [N, C, d1, d2, ...] (e.g. [N, C, H, W]); weight and bias [C]
// or undefined. In training it normalizes with the batch statistics (biased variance) and, when
// runningMean / runningVar ([C], contiguous) are defined, updates them IN PLACE as PyTorch does:
// running = (1 - momentum) running + momentum batch_stat, with the unbiased variance. In evaluation it
// normalizes with the running statistics, which must then be defined.
Variable batchNorm(const Variable& x, const Variable& weight, const Variable& bias, const Tensor& runningMean,
                   const Tensor& runningVar, bool training, float momentum = 0.1f, float eps = 1e-5f);

// F.embedding: indices of any shape (floats holding integers in [0, vocabulary)), weight
// [vocabulary, dim] -> [indices.shape..., dim]. Row paddingIndex (PyTorch's padding_idx; -1 = none)
// gets no gradient. An index out of range is a raven::Error when the backend executes the lookup.
Variable embedding(const Tensor& indices, const Variable& weight, int64_t paddingIndex = -1);

// F.dropout: in training, element i is zeroed with probability p, decided by the counter-based
// generator at (seed, offset + i), and the survivors are scaled by 1 / (1 - p). The same arguments
// give the same mask on every device; advance offset by x.numel() per call for fresh masks. Outside
// training, or with p = 0, returns x itself. p must be in [0, 1].
Variable dropout(const Variable& x, float p, bool training, uint64_t seed, uint64_t offset);

// softmax(scale q k^T + mask) v, as torch.nn.functional.scaled_dot_product_attention (PyTorch 2):
// q [..., Tq, D], k [..., Tk, D], v [..., Tk, Dv] with equal leading dimensions (e.g. [B, heads]) ->
// [..., Tq, Dv]. scale 0 means 1 / sqrt(D). causal: query i attends to keys 0..i (the mask is aligned
// at the top left, as PyTorch's is_causal).
Variable scaledDotProductAttention(const Variable& q, const Variable& k, const Variable& v, bool causal = false,
                                   float scale = 0.0f);

}  // namespace raven
