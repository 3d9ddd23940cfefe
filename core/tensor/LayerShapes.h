#pragma once
// The shapes of the layer kernels that every backend runs (conv2d, pooling, batch norm, attention):
// plain structs that the CPU kernels (cpu/kernels) take and the Vulkan shaders' push constants are
// filled from, so both backends read a layer's geometry from one definition. BackendShapes.h builds
// them from what a Backend virtual receives. Each validate() throws raven::Error naming the bad field.
#include <cstdint>

namespace raven {

struct Conv2dShape {
    int64_t batch = 1;        // N
    int64_t inChannels = 1;   // C
    int64_t height = 1;       // H
    int64_t width = 1;        // W
    int64_t outChannels = 1;  // K
    int64_t kernelH = 1;
    int64_t kernelW = 1;
    int64_t strideH = 1;
    int64_t strideW = 1;
    int64_t padH = 0;  // zeros added on each side
    int64_t padW = 0;
    int64_t dilationH = 1;
    int64_t dilationW = 1;
    int64_t groups = 1;

    int64_t outH() const { return (height + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1; }
    int64_t outW() const { return (width + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1; }
    // Throws raven::Error naming the offending field when the shape is impossible (channels not divisible
    // by groups, a kernel larger than the padded input, a non-positive stride, ...).
    void validate() const;
};

struct Pool2dShape {
    int64_t batch = 1;     // N
    int64_t channels = 1;  // C
    int64_t height = 1;    // H
    int64_t width = 1;     // W
    int64_t kernelH = 1;
    int64_t kernelW = 1;
    int64_t strideH = 1;  // PyTorch's default stride is the kernel size: set it so explicitly
    int64_t strideW = 1;
    int64_t padH = 0;
    int64_t padW = 0;

    int64_t outH() const { return (height + 2 * padH - kernelH) / strideH + 1; }
    int64_t outW() const { return (width + 2 * padW - kernelW) / strideW + 1; }
    // Throws raven::Error naming the field when the shape is impossible.
    void validate() const;
};

struct BatchNormShape {
    int64_t batch = 1;     // N
    int64_t channels = 1;  // C
    int64_t spatial = 1;   // H * W, or 1
    float eps = 1e-5f;
    float momentum = 0.1f;

    // Throws raven::Error for a non-positive size, or (in training) a single value per channel.
    void validate(bool training) const;
};

struct AttentionShape {
    int64_t batch = 1;        // B
    int64_t heads = 1;        // H
    int64_t queryLength = 1;  // Tq
    int64_t keyLength = 1;    // Tk
    int64_t headDim = 1;      // D, of queries and keys
    int64_t valueDim = 1;     // Dv
    bool causal = false;
    float scale = 0.0f;  // 0 means 1/sqrt(headDim)

    float effectiveScale() const;
    // Throws raven::Error for a non-positive size or a negative scale.
    void validate() const;
};

}  // namespace raven
