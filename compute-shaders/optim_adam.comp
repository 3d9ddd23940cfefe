#version 450
// One torch.optim.Adam / AdamW step over one parameter (raven::AdamStepScalars in tensor/Backend.h):
// reads param, grad and the two moments once, writes the new param and moments once. The float
// operations and their order are those of the composed elementwise kernels (Backend::adamUpdate's
// default), each result `precise` so that no multiply-add is fused; sqrt and division come from
// raven_math.glsl as in the elementwise shaders. One element per invocation, no accumulation; or, with
// VEC4 (every offset a multiple of 4, VulkanOptim.cpp), four per invocation loaded and stored as vec4,
// each computed as on the scalar path.
// The step's scalars come from a small buffer rather than push constants: they change every step (the
// bias corrections), and a training step whose commands stay the same is resubmitted without being
// recorded again (vulkan/Recorder.h). A parameter larger than one binding comes in several dispatches
// of element ranges (offsets in the push constants).
#include "raven_math.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint VEC4 = 0;

layout(std430, set = 0, binding = 0) readonly buffer Param { float param[]; };
layout(std430, set = 0, binding = 1) readonly buffer Grad { float grad[]; };
layout(std430, set = 0, binding = 2) readonly buffer ExpAvg { float expAvg[]; };      // grad when firstStep
layout(std430, set = 0, binding = 3) readonly buffer ExpAvgSq { float expAvgSq[]; };  // alike
layout(std430, set = 0, binding = 4) writeonly buffer ParamOut { float paramOut[]; };
layout(std430, set = 0, binding = 5) writeonly buffer ExpAvgOut { float expAvgOut[]; };
layout(std430, set = 0, binding = 6) writeonly buffer ExpAvgSqOut { float expAvgSqOut[]; };
// The same bindings as vec4, for the VEC4 path.
layout(std430, set = 0, binding = 0) readonly buffer Param4 { vec4 param4[]; };
layout(std430, set = 0, binding = 1) readonly buffer Grad4 { vec4 grad4[]; };
layout(std430, set = 0, binding = 2) readonly buffer ExpAvg4 { vec4 expAvg4[]; };
layout(std430, set = 0, binding = 3) readonly buffer ExpAvgSq4 { vec4 expAvgSq4[]; };
layout(std430, set = 0, binding = 4) writeonly buffer ParamOut4 { vec4 paramOut4[]; };
layout(std430, set = 0, binding = 5) writeonly buffer ExpAvgOut4 { vec4 expAvgOut4[]; };
layout(std430, set = 0, binding = 6) writeonly buffer ExpAvgSqOut4 { vec4 expAvgSqOut4[]; };

layout(push_constant) uniform Params {
    uint n;
    uint paramOffset;
    uint gradOffset;
    uint expAvgOffset;
    uint expAvgSqOffset;
    uint paramOutOffset;
    uint expAvgOutOffset;
    uint expAvgSqOutOffset;
    uint firstStep;  // 1: the moments start at zero (bindings 2 and 3 are not read)
} q;

layout(std430, set = 0, binding = 7) readonly buffer Scalars {
    float beta1;
    float oneMinusBeta1;
    float beta2;
    float oneMinusBeta2;
    float invSqrtCorrection2;
    float eps;
    float stepSize;
    float weightDecay;  // Adam: g = grad + weightDecay * p
    float decayFactor;  // AdamW: p = p * decayFactor
} s;

// One element: the new parameter and moments from the old ones (m0, v0 unused on the first step).
void update(float p, float gradient, float m0, float v0, out float pOut, out float mOut, out float vOut) {
    precise float g = gradient;
    precise float pDecayed = p;
    if (s.decayFactor != 1.0) pDecayed = p * s.decayFactor;
    if (s.weightDecay != 0.0) {
        precise float decay = p * s.weightDecay;
        g = g + decay;
    }
    precise float ga = g * s.oneMinusBeta1;
    precise float m = ga;
    precise float gg = g * g;
    precise float gga = gg * s.oneMinusBeta2;
    precise float v = gga;
    if (q.firstStep == 0u) {
        precise float mb = m0 * s.beta1;
        m = mb + ga;
        precise float vb = v0 * s.beta2;
        v = vb + gga;
    }
    precise float root = r_sqrt(v);
    precise float scaled = root * s.invSqrtCorrection2;
    precise float denom = scaled + s.eps;
    precise float ratio = r_div(m, denom);
    precise float stepped = ratio * s.stepSize;
    pOut = pDecayed - stepped;
    mOut = m;
    vOut = v;
}

void updateAt(uint i) {
    const bool first = q.firstStep != 0u;
    float p, m, v;
    update(param[q.paramOffset + i], grad[q.gradOffset + i], first ? 0.0 : expAvg[q.expAvgOffset + i],
           first ? 0.0 : expAvgSq[q.expAvgSqOffset + i], p, m, v);
    paramOut[q.paramOutOffset + i] = p;
    expAvgOut[q.expAvgOutOffset + i] = m;
    expAvgSqOut[q.expAvgSqOutOffset + i] = v;
}

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (VEC4 == 1) {
        uint first = i * 4;
        if (first >= q.n) return;
        if (first + 4 > q.n) {
            for (uint j = first; j < q.n; ++j) updateAt(j);
            return;
        }
        const bool firstStep = q.firstStep != 0u;
        vec4 p = param4[q.paramOffset / 4 + i], g = grad4[q.gradOffset / 4 + i];
        vec4 m0 = firstStep ? vec4(0.0) : expAvg4[q.expAvgOffset / 4 + i];
        vec4 v0 = firstStep ? vec4(0.0) : expAvgSq4[q.expAvgSqOffset / 4 + i];
        vec4 pOut, mOut, vOut;
        for (int c = 0; c < 4; ++c) {
            float pc, mc, vc;
            update(p[c], g[c], m0[c], v0[c], pc, mc, vc);
            pOut[c] = pc;
            mOut[c] = mc;
            vOut[c] = vc;
        }
        paramOut4[q.paramOutOffset / 4 + i] = pOut;
        expAvgOut4[q.expAvgOutOffset / 4 + i] = mOut;
        expAvgSqOut4[q.expAvgSqOutOffset / 4 + i] = vOut;
        return;
    }
    if (i >= q.n) return;
    updateAt(i);
}
