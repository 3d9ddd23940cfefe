#version 450
// Softmax or log-softmax of each row of a contiguous [rows, C] block, one workgroup per row:
// the row maximum, then s = sum exp(x - max) (fixed lane/tree order, raven_workgroup_reduce.glsl),
// then y = exp(x - max) * (1 / s), or y = (x - max) - log(s), as the CPU backend computes them.
#include "raven_math.glsl"
#include "raven_workgroup_reduce.glsl"

layout(local_size_x = 64) in;
layout(constant_id = 0) const uint LOG = 0;  // 1: log-softmax

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Params {
    uint cols;
    uint xOffset;
    uint yOffset;
} p;

void main() {
    uint row = gl_WorkGroupID.x;
    uint lane = gl_LocalInvocationID.x;
    uint xb = p.xOffset + row * p.cols;
    uint yb = p.yOffset + row * p.cols;
    float m = -R_INF;
    for (uint i = lane; i < p.cols; i += R_LANES) m = r_max(m, x[xb + i]);
    m = r_workgroup_max(m);
    float s = 0.0;
    for (uint i = lane; i < p.cols; i += R_LANES) s += r_exp(x[xb + i] - m);
    s = r_workgroup_sum(s);
    if (LOG == 1) {
        float ls = r_log(s);
        for (uint i = lane; i < p.cols; i += R_LANES) y[yb + i] = (x[xb + i] - m) - ls;
    } else {
        float inv = r_div(1.0, s);
        for (uint i = lane; i < p.cols; i += R_LANES) y[yb + i] = r_exp(x[xb + i] - m) * inv;
    }
}
