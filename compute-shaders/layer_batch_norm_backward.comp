#version 450
// The gradients of batch normalization, one workgroup per channel: dweight = sum(dy * xhat), dbias =
// sum(dy), and dx = weight * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)) in training (the batch
// statistics depend on x), dx = weight * invstd * dy in evaluation.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer Weight { float weight[]; };
layout(std430, set = 0, binding = 2) readonly buffer SavedMean { float savedMean[]; };
layout(std430, set = 0, binding = 3) readonly buffer SavedInvstd { float savedInvstd[]; };
layout(std430, set = 0, binding = 4) readonly buffer GradOutput { float dy[]; };
layout(std430, set = 0, binding = 5) writeonly buffer GradInput { float dx[]; };
layout(std430, set = 0, binding = 6) writeonly buffer GradWeight { float dweight[]; };
layout(std430, set = 0, binding = 7) writeonly buffer GradBias { float dbias[]; };

layout(push_constant) uniform Params {
    uint batch, channels, spatial;
    uint training, hasWeight, wantInput, wantWeight, wantBias;
} p;

#include "layer_reduce.glsl"
#include "raven_math.glsl"

uint at(uint c, uint e) { return ((e / p.spatial) * p.channels + c) * p.spatial + e % p.spatial; }

void main() {
    const uint c = gl_WorkGroupID.x;
    const uint count = p.batch * p.spatial;
    const uint lane = gl_LocalInvocationID.x, step = gl_WorkGroupSize.x;
    const float mu = savedMean[c], inv = savedInvstd[c];
    float sumDy = 0.0, sumDyXhat = 0.0;
    for (uint e = lane; e < count; e += step) {
        const float g = dy[at(c, e)];
        sumDy += g;
        sumDyXhat += g * (x[at(c, e)] - mu) * inv;
    }
    sumDy = workgroupSum(sumDy);
    sumDyXhat = workgroupSum(sumDyXhat);
    if (lane == 0) {
        if (p.wantWeight != 0) dweight[c] = sumDyXhat;
        if (p.wantBias != 0) dbias[c] = sumDy;
    }
    if (p.wantInput == 0) return;
    const float scale = p.hasWeight != 0 ? inv * weight[c] : inv;
    const float meanDy = p.training != 0 ? r_div(sumDy, float(count)) : 0.0;
    const float meanDyXhat = p.training != 0 ? r_div(sumDyXhat, float(count)) : 0.0;
    for (uint e = lane; e < count; e += step)
        dx[at(c, e)] = scale * (dy[at(c, e)] - meanDy - (x[at(c, e)] - mu) * inv * meanDyXhat);
}
