#version 450
// One torch.optim.Adam / AdamW step over one parameter (raven::AdamStepScalars in tensor/Backend.h):
// reads param, grad and the two moments once, writes the new param and moments once. The float
// operations and their order are those of the composed elementwise kernels (Backend::adamUpdate's
// default), each result `precise` so that no multiply-add is fused; sqrt and division come from
// raven_math.glsl as in the elementwise shaders. One element per invocation, no accumulation.
// The step's scalars come from a small buffer rather than push constants: they change every step (the
// bias corrections), and a training step whose commands stay the same is resubmitted without being
// recorded again (vulkan/Recorder.h). A parameter larger than one binding comes in several dispatches
// of element ranges (offsets in the push constants).
#include "raven_math.glsl"

layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Param { float param[]; };
layout(std430, set = 0, binding = 1) readonly buffer Grad { float grad[]; };
layout(std430, set = 0, binding = 2) readonly buffer ExpAvg { float expAvg[]; };      // grad when firstStep
layout(std430, set = 0, binding = 3) readonly buffer ExpAvgSq { float expAvgSq[]; };  // alike
layout(std430, set = 0, binding = 4) writeonly buffer ParamOut { float paramOut[]; };
layout(std430, set = 0, binding = 5) writeonly buffer ExpAvgOut { float expAvgOut[]; };
layout(std430, set = 0, binding = 6) writeonly buffer ExpAvgSqOut { float expAvgSqOut[]; };

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

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= q.n) return;
    float p = param[q.paramOffset + i];
    precise float g = grad[q.gradOffset + i];
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
        precise float mb = expAvg[q.expAvgOffset + i] * s.beta1;
        m = mb + ga;
        precise float vb = expAvgSq[q.expAvgSqOffset + i] * s.beta2;
        v = vb + gga;
    }
    precise float root = r_sqrt(v);
    precise float scaled = root * s.invSqrtCorrection2;
    precise float denom = scaled + s.eps;
    precise float ratio = r_div(m, denom);
    precise float stepped = ratio * s.stepSize;
    paramOut[q.paramOutOffset + i] = pDecayed - stepped;
    expAvgOut[q.expAvgOutOffset + i] = m;
    expAvgSqOut[q.expAvgSqOutOffset + i] = v;
}
