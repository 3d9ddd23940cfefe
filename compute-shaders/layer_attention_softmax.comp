#version 450
// The softmax of attention, in place on the scaled scores [B*H*Tq, Tk], one workgroup per row: with
// causal, query i sees keys 0..i only and the others get probability exactly 0. exp and the division
// come from raven_math.glsl, the one set of math routines every Raven shader shares.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) buffer Scores { float scores[]; };

layout(push_constant) uniform Params { uint rows, queryLength, keyLength, causal; } p;

#include "layer_reduce.glsl"
#include "raven_math.glsl"

void main() {
    const uint row = gl_WorkGroupID.x;
    const uint base = row * p.keyLength;
    const uint i = row % p.queryLength;
    const uint visible = p.causal != 0 ? min(p.keyLength, i + 1) : p.keyLength;
    const uint lane = gl_LocalInvocationID.x, step = gl_WorkGroupSize.x;
    float largest = uintBitsToFloat(0xff800000u);
    for (uint j = lane; j < visible; j += step) largest = max(largest, scores[base + j]);
    largest = workgroupMax(largest);
    float partial = 0.0;
    for (uint j = lane; j < visible; j += step) {
        const float e = r_exp(scores[base + j] - largest);
        scores[base + j] = e;
        partial += e;
    }
    const float inverse = r_div(1.0, workgroupSum(partial));
    for (uint j = lane; j < p.keyLength; j += step) scores[base + j] = j < visible ? scores[base + j] * inverse : 0.0;
}
