#version 450
// Average pooling in the verifiable kernel mode, forward (MODE 0) and backward (MODE 1): the twins of
// core/cpu/kernels/Pool2d.cpp's avg_pool2d_forward and avg_pool2d_backward with their verifiable
// division (VerifiableMath's vDiv, include/verifiable_math.glsl), line by line.
//  - forward, one invocation per output: the window summed row by row from 0, then vDiv(sum, divisor).
//  - backward, one invocation per input element: the CPU adds vDiv(dy[o], divisor(o)) into every input of
//    output o's window, o = 0, 1, ... from 0; the outputs whose window covers this input, visited in
//    raster order, are those o in increasing order, so summing their shares from 0 gives the CPU's bits.
// Every float `precise` (the build checks the SPIR-V).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 0;

layout(std430, set = 0, binding = 0) readonly buffer In0 { float x[]; };     // forward: x; backward: dy
layout(std430, set = 0, binding = 1) writeonly buffer Out0 { float y[]; };   // forward: y; backward: dx

#include "layer_pool.glsl"
#include "verifiable_math.glsl"

void forwardOne(uint o) {
    const uint outPlane = p.outH * p.outW;
    if (o >= p.planes * outPlane) return;
    const uint plane = o / outPlane, q = o % outPlane;
    const PoolWindow w = poolWindow(q / p.outW, q % p.outW);
    const uint base = plane * p.height * p.width;
    precise float sum = 0.0;
    for (int ih = w.h0; ih < w.h1; ++ih)
        for (int iw = w.w0; iw < w.w1; ++iw) {
            precise float v = x[base + uint(ih * int(p.width) + iw)];
            sum = sum + v;
        }
    y[o] = vDiv(sum, poolDivisor(w));
}

void backwardOne(uint e) {
    const uint inPlane = p.height * p.width;
    if (e >= p.planes * inPlane) return;
    const uint plane = e / inPlane, q = e % inPlane;
    const int ih = int(q / p.width), iw = int(q % p.width);
    const ivec2 rows = poolOutputsCovering(ih, p.kernelH, p.strideH, p.padH, p.outH);
    const ivec2 cols = poolOutputsCovering(iw, p.kernelW, p.strideW, p.padW, p.outW);
    precise float sum = 0.0;
    for (int oh = rows.x; oh <= rows.y; ++oh)
        for (int ow = cols.x; ow <= cols.y; ++ow) {
            const PoolWindow w = poolWindow(uint(oh), uint(ow));
            precise float share = vDiv(x[plane * p.outH * p.outW + uint(oh) * p.outW + uint(ow)], poolDivisor(w));
            sum = sum + share;
        }
    y[e] = sum;
}

void main() {
    if (MODE == 0u)
        forwardOne(gl_GlobalInvocationID.x);
    else
        backwardOne(gl_GlobalInvocationID.x);
}
