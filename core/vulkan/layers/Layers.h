#pragma once
// The layer ops of Raven's core engine as Vulkan compute shaders: conv2d, max/avg pooling, layer and
// batch normalization, embedding, dropout and attention, forward and backward.
//
// Each op is a pair of functions that RECORD dispatches into a Recorder (nothing is submitted), on
// float32 BufferRanges, with the CPU kernels' shape structs (core/cpu/kernels/*.h) and semantics:
//
//   Recorder rec(device);
//   layers::conv2dForward(device, rec, shape, x, weight, bias, y);
//   layers::maxPool2dForward(device, rec, poolShape, y, pooled, argmax);
//   rec.submit();                                   // barriers between them come from the Recorder
//
// Conventions, shared with the CPU kernels:
//  - A backward WRITES (overwrites) the gradients it is given; an absent operand (no bias, a gradient
//    not wanted) is a default-constructed BufferRange.
//  - Integer data (max-pool argmax, embedding indices) is float32 holding integers, as the Backend
//    carries it.
//  - Determinism: no float atomics; every sum runs in an order fixed by the shape and by workgroup
//    sizes chosen from the device's limits, so the same inputs on the same device give bit-identical
//    results. Across devices results differ by float rounding only (tile and workgroup sizes change the
//    summation order); dropout masks are the CPU's bit for bit everywhere.
//  - Shapes travel in push constants with 32-bit indices: a tensor of more than 2^32 elements is a
//    raven::Error. Each operand is one binding, so it must fit Device::maxBindingBytes() (the device's
//    maxStorageBufferRange; the Recorder checks and throws a raven::Error naming the limit).
// HostRun.h runs any of them on host vectors (upload, submit, download) for tests and tools.
#include "vulkan/layers/Attention.h"
#include "vulkan/layers/BatchNorm.h"
#include "vulkan/layers/BatchedMatmul.h"
#include "vulkan/layers/Conv2d.h"
#include "vulkan/layers/Dropout.h"
#include "vulkan/layers/Embedding.h"
#include "vulkan/layers/LayerNorm.h"
#include "vulkan/layers/Pool2d.h"
#include "vulkan/layers/VerifiableConv2d.h"
