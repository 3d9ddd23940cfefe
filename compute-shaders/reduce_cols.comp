#version 450
// Sum or maximum over the middle axis of a [A, R, C] block: y[a, c] = op over r of x[a, r, c], one
// invocation per output, r in order (neighbouring invocations read neighbouring columns). The bias
// gradient ([batch, features] summed over the batch) is this kernel. The strides come from the host,
// which cuts a block larger than one binding into parts (VulkanReduce.cpp); a part that continues an
// earlier one along r (ACCUMULATE) starts from the partial result in y, so the order of accumulation
// is the same as in one dispatch.
#include "raven_math.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint OP = 0;  // 0 sum, 1 max

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) buffer Y { float y[]; };

layout(push_constant) uniform Params {
    uint outer;    // A (in this part)
    uint reduced;  // R (in this part)
    uint inner;    // C (in this part)
    uint xOffset;
    uint yOffset;
    uint xOuterStride;    // between consecutive a in x
    uint xReducedStride;  // between consecutive r in x
    uint yOuterStride;    // between consecutive a in y
    uint accumulate;      // 1: y holds the result over the earlier r
} p;

void main() {
    uint t = gl_GlobalInvocationID.x;
    if (t >= p.outer * p.inner) return;
    uint a = t / p.inner;
    uint c = t % p.inner;
    uint base = p.xOffset + a * p.xOuterStride + c;
    uint out_ = p.yOffset + a * p.yOuterStride + c;
    float acc = OP == 0 ? 0.0 : -R_INF;
    if (p.accumulate == 1) acc = y[out_];
    for (uint r = 0; r < p.reduced; ++r) {
        float v = x[base + r * p.xReducedStride];
        acc = OP == 0 ? acc + v : (v > acc ? v : acc);
    }
    y[out_] = acc;
}
