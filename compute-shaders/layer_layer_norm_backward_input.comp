#version 450
// dL/dx of layer normalization, one workgroup per row: with g = dy * weight and xhat = (x - mean) * rstd,
// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer Weight { float weight[]; };
layout(std430, set = 0, binding = 2) readonly buffer Mean { float mean[]; };
layout(std430, set = 0, binding = 3) readonly buffer Rstd { float rstd[]; };
layout(std430, set = 0, binding = 4) readonly buffer GradOutput { float dy[]; };
layout(std430, set = 0, binding = 5) writeonly buffer GradInput { float dx[]; };

layout(push_constant) uniform Params { uint rows, features, hasWeight; } p;

#include "layer_reduce.glsl"
#include "raven_math.glsl"

float gradient(uint base, uint i) { return p.hasWeight != 0 ? dy[base + i] * weight[i] : dy[base + i]; }

void main() {
    const uint row = gl_WorkGroupID.x;
    const uint base = row * p.features;
    const uint lane = gl_LocalInvocationID.x, step = gl_WorkGroupSize.x;
    const float mu = mean[row], inv = rstd[row];
    float sumG = 0.0, sumGX = 0.0;
    for (uint i = lane; i < p.features; i += step) {
        const float g = gradient(base, i);
        sumG += g;
        sumGX += g * (x[base + i] - mu) * inv;
    }
    const float meanG = r_div(workgroupSum(sumG), float(p.features));
    const float meanGX = r_div(workgroupSum(sumGX), float(p.features));
    for (uint i = lane; i < p.features; i += step)
        dx[base + i] = inv * (gradient(base, i) - meanG - (x[base + i] - mu) * inv * meanGX);
}
