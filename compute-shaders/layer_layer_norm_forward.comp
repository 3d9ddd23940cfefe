#version 450
// Layer normalization, one workgroup per row of [rows, features]: the mean, then the biased variance
// of (x - mean) (two passes, as the CPU kernel, for accuracy), rstd = 1 / sqrt(variance + eps), and
// y = (x - mean) * rstd * weight + bias. mean and rstd are saved for the backward pass.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer Weight { float weight[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 3) writeonly buffer Output { float y[]; };
layout(std430, set = 0, binding = 4) writeonly buffer Mean { float mean[]; };
layout(std430, set = 0, binding = 5) writeonly buffer Rstd { float rstd[]; };

layout(push_constant) uniform Params {
    uint rows, features;
    float eps;
    uint hasWeight, hasBias;
} p;

#include "layer_reduce.glsl"
#include "raven_math.glsl"

void main() {
    const uint row = gl_WorkGroupID.x;
    const uint base = row * p.features;
    const uint lane = gl_LocalInvocationID.x, step = gl_WorkGroupSize.x;
    float partial = 0.0;
    for (uint i = lane; i < p.features; i += step) partial += x[base + i];
    const float mu = r_div(workgroupSum(partial), float(p.features));
    partial = 0.0;
    for (uint i = lane; i < p.features; i += step) {
        const float d = x[base + i] - mu;
        partial += d * d;
    }
    const float inv = r_div(1.0, r_sqrt(r_div(workgroupSum(partial), float(p.features)) + p.eps));
    if (lane == 0) {
        mean[row] = mu;
        rstd[row] = inv;
    }
    for (uint i = lane; i < p.features; i += step) {
        float v = (x[base + i] - mu) * inv;
        if (p.hasWeight != 0) v *= weight[i];
        if (p.hasBias != 0) v += bias[i];
        y[base + i] = v;
    }
}
