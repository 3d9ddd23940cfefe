#version 450
// Through the softmax of attention, in place on dP = dout v^T [B*H*Tq, Tk], one workgroup per row:
// dS_ij = P_ij * (dP_ij - sum_j' P_ij' dP_ij') * scale (the scale of the scores folded in).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Probs { float probs[]; };
layout(std430, set = 0, binding = 1) buffer Grad { float grad[]; };

layout(push_constant) uniform Params { uint rows, keyLength; float scale; } p;

#include "layer_reduce.glsl"

void main() {
    const uint base = gl_WorkGroupID.x * p.keyLength;
    const uint lane = gl_LocalInvocationID.x, step = gl_WorkGroupSize.x;
    float partial = 0.0;
    for (uint j = lane; j < p.keyLength; j += step) partial += probs[base + j] * grad[base + j];
    const float dot = workgroupSum(partial);
    for (uint j = lane; j < p.keyLength; j += step)
        grad[base + j] = probs[base + j] * (grad[base + j] - dot) * p.scale;
}
