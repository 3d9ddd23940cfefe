#version 450
// Max pooling in the verifiable kernel mode, forward (MODE 0) and backward (MODE 1): the twins of
// core/cpu/kernels/Pool2d.cpp's max_pool2d_forward and max_pool2d_backward, line by line.
//  - forward, one invocation per output: windowMax, the window visited row by row from its top-left
//    input, -infinity first, an input taken when it compares greater, the first NaN taken and the
//    search ended (the CPU's 2x2 branch-free path gives the same as this general one); argmax is
//    ih * W + iw in the plane, as a float (exact below 2^24). No float arithmetic.
//  - backward, one invocation per input element: the CPU adds dy[o] into dx[argmax[o]] for o = 0, 1, ...
//    from 0; the outputs whose window covers this input, visited in raster order, are those o in
//    increasing order, so summing the dy of those whose argmax names it from 0 gives the CPU's bits.
// Every float `precise` (the build checks the SPIR-V).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 0;

layout(std430, set = 0, binding = 0) readonly buffer In0 { float x[]; };       // forward: x; backward: argmax
layout(std430, set = 0, binding = 1) readonly buffer In1 { float dy[]; };      // backward: dy (forward: unused)
layout(std430, set = 0, binding = 2) writeonly buffer Out0 { float y[]; };     // forward: y; backward: dx
layout(std430, set = 0, binding = 3) writeonly buffer Out1 { float argmax[]; };  // forward: argmax

#include "layer_pool.glsl"

void forwardOne(uint o) {
    const uint outPlane = p.outH * p.outW;
    if (o >= p.planes * outPlane) return;
    const uint plane = o / outPlane, q = o % outPlane;
    const PoolWindow w = poolWindow(q / p.outW, q % p.outW);
    const uint base = plane * p.height * p.width;
    precise float best = uintBitsToFloat(0xff800000u);  // -infinity
    int index = w.h0 * int(p.width) + w.w0;
    bool done = false;
    for (int ih = w.h0; ih < w.h1 && !done; ++ih)
        for (int iw = w.w0; iw < w.w1; ++iw) {
            const int at = ih * int(p.width) + iw;
            precise float v = x[base + uint(at)];
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

void backwardOne(uint e) {
    const uint inPlane = p.height * p.width;
    if (e >= p.planes * inPlane) return;
    const uint plane = e / inPlane, q = e % inPlane;
    const int ih = int(q / p.width), iw = int(q % p.width);
    const ivec2 rows = poolOutputsCovering(ih, p.kernelH, p.strideH, p.padH, p.outH);
    const ivec2 cols = poolOutputsCovering(iw, p.kernelW, p.strideW, p.padW, p.outW);
    const float self = float(q);
    precise float sum = 0.0;
    for (int oh = rows.x; oh <= rows.y; ++oh)
        for (int ow = cols.x; ow <= cols.y; ++ow) {
            const uint o = plane * p.outH * p.outW + uint(oh) * p.outW + uint(ow);
            if (x[o] == self) sum += dy[o];
        }
    y[e] = sum;
}

void main() {
    if (MODE == 0u)
        forwardOne(gl_GlobalInvocationID.x);
    else
        backwardOne(gl_GlobalInvocationID.x);
}
