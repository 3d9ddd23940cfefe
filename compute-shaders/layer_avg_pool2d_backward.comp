#version 450
// The gradient of average pooling as a gather, one invocation per input element: the sum, over the
// outputs whose window holds it in raster order, of dy / divisor. No atomics; the CPU kernel's order.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer GradOutput { float dy[]; };
layout(std430, set = 0, binding = 1) writeonly buffer GradInput { float dx[]; };

#include "layer_pool.glsl"

void main() {
    const uint e = gl_GlobalInvocationID.x;
    const uint inPlane = p.height * p.width;
    if (e >= p.planes * inPlane) return;
    const uint plane = e / inPlane, q = e % inPlane;
    const int ih = int(q / p.width), iw = int(q % p.width);
    const ivec2 rows = poolOutputsCovering(ih, p.kernelH, p.strideH, p.padH, p.outH);
    const ivec2 cols = poolOutputsCovering(iw, p.kernelW, p.strideW, p.padW, p.outW);
    float sum = 0.0;
    for (int oh = rows.x; oh <= rows.y; ++oh)
        for (int ow = cols.x; ow <= cols.y; ++ow) {
            const uint o = plane * p.outH * p.outW + uint(oh) * p.outW + uint(ow);
            sum += r_div(dy[o], poolDivisor(poolWindow(uint(oh), uint(ow))));
        }
    dx[e] = sum;
}
