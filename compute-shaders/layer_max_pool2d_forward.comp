#version 450
// Max pooling, one invocation per output: y = the largest input in the window (padding is -infinity;
// the first NaN wins, as in PyTorch) and argmax = ih * W + iw of that input in its plane, stored as a
// float (exact below 2^24), which the Backend interface uses for integer data.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Output { float y[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Argmax { float argmax[]; };

#include "layer_pool.glsl"

void main() {
    const uint o = gl_GlobalInvocationID.x;
    const uint outPlane = p.outH * p.outW;
    if (o >= p.planes * outPlane) return;
    const uint plane = o / outPlane, q = o % outPlane;
    const PoolWindow w = poolWindow(q / p.outW, q % p.outW);
    const uint base = plane * p.height * p.width;
    float best = uintBitsToFloat(0xff800000u);  // -infinity
    int index = w.h0 * int(p.width) + w.w0;
    bool done = false;
    for (int ih = w.h0; ih < w.h1 && !done; ++ih)
        for (int iw = w.w0; iw < w.w1; ++iw) {
            const int at = ih * int(p.width) + iw;
            const float v = x[base + uint(at)];
            if (poolIsNan(v)) {
                best = v;
                index = at;
                done = true;
                break;
            }
            if (v > best) {
                best = v;
                index = at;
            }
        }
    y[o] = best;
    argmax[o] = float(index);
}
