#version 450
// The gradient of max pooling as a gather, one invocation per input element: dx[ih, iw] sums, over the
// outputs whose window holds (ih, iw) in raster order, the dy of those whose argmax names it. No
// atomics; the order is the CPU kernel's, so results match it exactly.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Argmax { float argmax[]; };
layout(std430, set = 0, binding = 1) readonly buffer GradOutput { float dy[]; };
layout(std430, set = 0, binding = 2) writeonly buffer GradInput { float dx[]; };

#include "layer_pool.glsl"

void main() {
    const uint e = gl_GlobalInvocationID.x;
    const uint inPlane = p.height * p.width;
    if (e >= p.planes * inPlane) return;
    const uint plane = e / inPlane, q = e % inPlane;
    const int ih = int(q / p.width), iw = int(q % p.width);
    const ivec2 rows = poolOutputsCovering(ih, p.kernelH, p.strideH, p.padH, p.outH);
    const ivec2 cols = poolOutputsCovering(iw, p.kernelW, p.strideW, p.padW, p.outW);
    const float self = float(q);
    float sum = 0.0;
    for (int oh = rows.x; oh <= rows.y; ++oh)
        for (int ow = cols.x; ow <= cols.y; ++ow) {
            const uint o = plane * p.outH * p.outW + uint(oh) * p.outW + uint(ow);
            if (argmax[o] == self) sum += dy[o];
        }
    dx[e] = sum;
}
