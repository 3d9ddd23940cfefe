#version 450
// Cross-entropy with label smoothing over contiguous logits [N, C], one workgroup per sample
// (PyTorch semantics, see tensor/Backend.h), forward (MODE 0: loss [N]) or backward (MODE 1:
// dL/dlogits [N, C] = gradLoss[n] * (softmax(x_n) - q_n)). Targets are class indices held as floats;
// a target that is not an integer in [0, C) makes that sample's outputs NaN and lowers the status
// word to the smallest such sample index (an integer atomic: the host reports it at the next sync).
// Large batches come in several dispatches of rows (VulkanSoftmax.cpp): rowBase numbers the first.
#include "raven_math.glsl"
#include "raven_workgroup_reduce.glsl"

layout(local_size_x = 64) in;
layout(constant_id = 0) const uint MODE = 0;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer T { float targets[]; };
layout(std430, set = 0, binding = 2) readonly buffer G { float gradLoss[]; };
layout(std430, set = 0, binding = 3) writeonly buffer Out { float outv[]; };
layout(std430, set = 0, binding = 4) buffer Status { uint firstBadSample; };

layout(push_constant) uniform Params {
    uint cols;
    uint xOffset;
    uint tOffset;
    uint gOffset;
    uint outOffset;
    float smoothing;       // s
    float smoothPerClass;  // s / C, rounded as the CPU backend rounds it
    uint rowBase;          // the sample index of row 0 of this dispatch
} p;

void main() {
    uint row = gl_WorkGroupID.x;
    uint lane = gl_LocalInvocationID.x;
    uint xb = p.xOffset + row * p.cols;
    float t = targets[p.tOffset + row];
    bool valid = t >= 0.0 && floor(t) == t && t < float(p.cols);
    if (!valid && lane == 0) atomicMin(firstBadSample, p.rowBase + row);
    uint cls = valid ? uint(t) : 0u;

    float m = -R_INF;
    for (uint i = lane; i < p.cols; i += R_LANES) m = r_max(m, x[xb + i]);
    m = r_workgroup_max(m);
    float s = 0.0;
    for (uint i = lane; i < p.cols; i += R_LANES) s += r_exp(x[xb + i] - m);
    float logSum = r_log(r_workgroup_sum(s));

    if (MODE == 0) {
        float loss = (1.0 - p.smoothing) * (logSum - (x[xb + cls] - m));
        if (p.smoothing != 0.0) {
            float acc = 0.0;
            for (uint i = lane; i < p.cols; i += R_LANES) acc += logSum - (x[xb + i] - m);
            loss += p.smoothPerClass * r_workgroup_sum(acc);
        }
        if (lane == 0) outv[p.outOffset + row] = valid ? loss : R_NAN;
    } else {
        float g = gradLoss[p.gOffset + row];
        uint ob = p.outOffset + row * p.cols;
        for (uint i = lane; i < p.cols; i += R_LANES) {
            float v = g * (r_exp((x[xb + i] - m) - logSum) - p.smoothPerClass);
            if (i == cls) v -= g * (1.0 - p.smoothing);
            outv[ob + i] = valid ? v : R_NAN;
        }
    }
}
