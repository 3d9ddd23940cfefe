// Pooling windows shared by the layer_*_pool2d shaders (PyTorch's max_pool2d / avg_pool2d with
// ceil_mode=False), the same arithmetic as core/cpu/kernels/Pool2d.cpp.
#include "raven_math.glsl"

// NaN by its bits: a driver may fold isnan() away under its fast-math assumptions.
bool poolIsNan(float x) { return (floatBitsToUint(x) & 0x7fffffffu) > 0x7f800000u; }

layout(push_constant) uniform Params {
    uint planes;  // batch * channels
    uint height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW;
    uint countIncludePad;  // average pooling: divide by the padded window (1) or the inputs in it (0)
} p;

// Output (oh, ow)'s window clipped to the input: rows [h0, h1), columns [w0, w1); paddedSize is the
// window clipped to the padded input only.
struct PoolWindow {
    int h0, h1, w0, w1, paddedSize;
};

PoolWindow poolWindow(uint oh, uint ow) {
    int h0 = int(oh * p.strideH) - int(p.padH), w0 = int(ow * p.strideW) - int(p.padW);
    int h1 = min(h0 + int(p.kernelH), int(p.height + p.padH)), w1 = min(w0 + int(p.kernelW), int(p.width + p.padW));
    PoolWindow w;
    w.paddedSize = (h1 - h0) * (w1 - w0);
    w.h0 = max(h0, 0);
    w.w0 = max(w0, 0);
    w.h1 = min(h1, int(p.height));
    w.w1 = min(w1, int(p.width));
    return w;
}

float poolDivisor(PoolWindow w) {
    return float(p.countIncludePad != 0 ? w.paddedSize : (w.h1 - w.h0) * (w.w1 - w.w0));
}

// The outputs whose windows contain input row ih (or column): [first, last] inclusive, clipped to the
// output; empty when first > last. Output oh covers rows oh*stride - pad .. oh*stride - pad + kernel - 1.
ivec2 poolOutputsCovering(int index, uint kernel, uint stride, uint pad, uint outSize) {
    const int shifted = index + int(pad);
    const int first = max(0, (shifted - int(kernel) + int(stride)) / int(stride));  // ceil((shifted-kernel+1)/stride)
    const int last = min(int(outSize) - 1, shifted / int(stride));
    return ivec2(first, last);
}
