#pragma once
// Raven's CPU kernels for the spatial and sequence ops: pure functions on raw, contiguous float32
// buffers, one *_forward / *_backward pair per op, in the manner of llm.c. They know nothing of tensors,
// autograd or Qt: the CPU backend checks and allocates tensors, then calls them; the Vulkan shaders are
// tested against them.
//
// Conventions shared by every kernel:
//  - Layouts and semantics are PyTorch's (NCHW, conv weight [out, in/groups, kh, kw], ...), so that
//    weights move between Raven and PyTorch by name and the tests compare with torch.nn.functional.
//  - Each op takes a small shape struct whose validate() throws raven::Error naming the bad field;
//    the kernels call it first. Pointers are not checked: they must hold the sizes the header states.
//  - A backward WRITES (overwrites) the gradients it is given; a null gradient pointer means "not
//    wanted" and skips that work. The autograd layer adds results into accumulated gradients.
//  - Results do not depend on the number of threads (Parallel.h): accumulation order is fixed by the
//    logical shape alone. Scratch memory is allocated inside the kernel.
//
// Example: a 3x3 convolution with padding 1 of a batch of 8 RGB 32x32 images into 16 channels.
//
//   Conv2dShape s{.batch = 8, .inChannels = 3, .height = 32, .width = 32, .outChannels = 16,
//                 .kernelH = 3, .kernelW = 3, .padH = 1, .padW = 1};
//   std::vector<float> y(8 * 16 * s.outH() * s.outW());
//   conv2d_forward(s, x, weight, bias, y.data(), pool);                 // pool: a ParallelFor
//   conv2d_backward(s, x, weight, dy, dx, dweight, dbias, pool);
#include "cpu/kernels/Attention.h"
#include "cpu/kernels/BatchNorm.h"
#include "cpu/kernels/Conv2d.h"
#include "cpu/kernels/Dropout.h"
#include "cpu/kernels/Embedding.h"
#include "cpu/kernels/LayerNorm.h"
#include "cpu/kernels/Parallel.h"
#include "cpu/kernels/Philox.h"
#include "cpu/kernels/Pool2d.h"
