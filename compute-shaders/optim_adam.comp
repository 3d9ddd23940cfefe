#version 450
// One torch.optim.Adam / AdamW step over one parameter (raven::AdamStepScalars in tensor/Backend.h):
// reads param, grad and the two moments once, writes the new param and moments once. The float
// operations and their order are those of the composed elementwise kernels (Backend::adamUpdate's
// default), each result `precise` so that no multiply-add is fused; sqrt and division come from
// raven_math.glsl as in the elementwise shaders. One element per invocation, no accumulation.
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
    uint firstStep;  // 1: the moments start at zero (bindings 2 and 3 are not read)
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
    if (i >= s.n) return;
    float p = param[s.paramOffset + i];
    precise float g = grad[s.gradOffset + i];
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
    if (s.firstStep == 0u) {
        precise float mb = expAvg[s.expAvgOffset + i] * s.beta1;
        m = mb + ga;
        precise float vb = expAvgSq[s.expAvgSqOffset + i] * s.beta2;
        v = vb + gga;
    }
    precise float root = r_sqrt(v);
    precise float scaled = root * s.invSqrtCorrection2;
    precise float denom = scaled + s.eps;
    precise float ratio = r_div(m, denom);
    precise float stepped = ratio * s.stepSize;
    paramOut[i] = pDecayed - stepped;
    expAvgOut[i] = m;
    expAvgSqOut[i] = v;
}
