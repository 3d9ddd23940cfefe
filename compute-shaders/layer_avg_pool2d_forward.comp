#version 450
// Average pooling, one invocation per output: the window's inputs summed in raster order, divided by
// the padded window size (countIncludePad) or by the number of inputs in it.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Output { float y[]; };

#include "layer_pool.glsl"

void main() {
    const uint o = gl_GlobalInvocationID.x;
    const uint outPlane = p.outH * p.outW;
    if (o >= p.planes * outPlane) return;
    const uint plane = o / outPlane, q = o % outPlane;
    const PoolWindow w = poolWindow(q / p.outW, q % p.outW);
    const uint base = plane * p.height * p.width;
    float sum = 0.0;
    for (int ih = w.h0; ih < w.h1; ++ih)
        for (int iw = w.w0; iw < w.w1; ++iw) sum += x[base + uint(ih) * p.width + uint(iw)];
    y[o] = r_div(sum, poolDivisor(w));
}
