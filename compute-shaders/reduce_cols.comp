#version 450
// Sum or maximum over the middle axis of a contiguous [A, R, C] block: y[a, c] = op over r of
// x[a, r, c], one invocation per output, r in order (neighbouring invocations read neighbouring
// columns). The bias gradient ([batch, features] summed over the batch) is this kernel.
#include "raven_math.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint OP = 0;  // 0 sum, 1 max

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Params {
    uint outer;  // A
    uint reduced;  // R
    uint inner;  // C
    uint xOffset;
    uint yOffset;
} p;

void main() {
    uint t = gl_GlobalInvocationID.x;
    if (t >= p.outer * p.inner) return;
    uint a = t / p.inner;
    uint c = t % p.inner;
    uint base = p.xOffset + a * p.reduced * p.inner + c;
    float acc = OP == 0 ? 0.0 : -R_INF;
    for (uint r = 0; r < p.reduced; ++r) {
        float v = x[base + r * p.inner];
        acc = OP == 0 ? acc + v : (v > acc ? v : acc);
    }
    y[p.yOffset + t] = acc;
}
