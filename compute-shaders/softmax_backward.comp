#version 450
// Gradients of softmax and log-softmax along the last axis, one workgroup per row of contiguous
// [rows, C] blocks y (the forward output) and g (dL/dy):
//   softmax:     dx = y * (g - sum(g * y))
//   log-softmax: dx = g - exp(y) * sum(g)
#include "raven_math.glsl"
#include "raven_workgroup_reduce.glsl"

layout(local_size_x = 64) in;
layout(constant_id = 0) const uint LOG = 0;  // 1: log-softmax

layout(std430, set = 0, binding = 0) readonly buffer Yv { float y[]; };
layout(std430, set = 0, binding = 1) readonly buffer G { float g[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Dx { float dx[]; };

layout(push_constant) uniform Params {
    uint cols;
    uint yOffset;
    uint gOffset;
    uint dxOffset;
} p;

void main() {
    uint row = gl_WorkGroupID.x;
    uint lane = gl_LocalInvocationID.x;
    uint yb = p.yOffset + row * p.cols;
    uint gb = p.gOffset + row * p.cols;
    uint ob = p.dxOffset + row * p.cols;
    float s = 0.0;
    for (uint i = lane; i < p.cols; i += R_LANES) s += LOG == 1 ? g[gb + i] : g[gb + i] * y[yb + i];
    s = r_workgroup_sum(s);
    for (uint i = lane; i < p.cols; i += R_LANES) {
        dx[ob + i] = LOG == 1 ? g[gb + i] - r_exp(y[yb + i]) * s : y[yb + i] * (g[gb + i] - s);
    }
}
