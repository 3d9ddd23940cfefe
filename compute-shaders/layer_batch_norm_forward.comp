#version 450
// Batch normalization of [N, C, spatial], one workgroup per channel. Training: the batch mean and the
// biased variance normalize (savedMean, savedInvstd = 1/sqrt(var + eps)); the running statistics, when
// bound, become (1 - momentum) * running + momentum * batch statistic with the UNBIASED variance.
// Evaluation: the running statistics normalize. y = (x - mean) * invstd * weight + bias.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer Weight { float weight[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 3) buffer RunningMean { float runningMean[]; };
layout(std430, set = 0, binding = 4) buffer RunningVar { float runningVar[]; };
layout(std430, set = 0, binding = 5) writeonly buffer Output { float y[]; };
layout(std430, set = 0, binding = 6) writeonly buffer SavedMean { float savedMean[]; };
layout(std430, set = 0, binding = 7) writeonly buffer SavedInvstd { float savedInvstd[]; };

layout(push_constant) uniform Params {
    uint batch, channels, spatial;
    float eps, momentum;
    uint training, hasWeight, hasBias;
    uint hasRunning;  // bit 0: runningMean is bound, bit 1: runningVar
} p;

#include "layer_reduce.glsl"
#include "raven_math.glsl"

uint at(uint c, uint e) { return ((e / p.spatial) * p.channels + c) * p.spatial + e % p.spatial; }

void main() {
    const uint c = gl_WorkGroupID.x;
    const uint count = p.batch * p.spatial;
    const uint lane = gl_LocalInvocationID.x, step = gl_WorkGroupSize.x;
    float mu, inv;
    if (p.training != 0) {
        float partial = 0.0;
        for (uint e = lane; e < count; e += step) partial += x[at(c, e)];
        mu = r_div(workgroupSum(partial), float(count));
        partial = 0.0;
        for (uint e = lane; e < count; e += step) {
            const float d = x[at(c, e)] - mu;
            partial += d * d;
        }
        const float squares = workgroupSum(partial);
        inv = r_div(1.0, r_sqrt(r_div(squares, float(count)) + p.eps));
        if (lane == 0 && (p.hasRunning & 1u) != 0) runningMean[c] = (1.0 - p.momentum) * runningMean[c] + p.momentum * mu;
        if (lane == 0 && (p.hasRunning & 2u) != 0)
            runningVar[c] = (1.0 - p.momentum) * runningVar[c] + p.momentum * r_div(squares, float(count - 1));
    } else {
        mu = runningMean[c];
        inv = r_div(1.0, r_sqrt(runningVar[c] + p.eps));
    }
    if (lane == 0) {
        savedMean[c] = mu;
        savedInvstd[c] = inv;
    }
    const float scale = p.hasWeight != 0 ? inv * weight[c] : inv;
    const float shift = p.hasBias != 0 ? bias[c] : 0.0;
    for (uint e = lane; e < count; e += step) y[at(c, e)] = (x[at(c, e)] - mu) * scale + shift;
}
