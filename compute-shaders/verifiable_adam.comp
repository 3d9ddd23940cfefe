#version 450
// One Adam / AdamW step of the verifiable kernel mode over one parameter: the twin of
// core/cpu/CpuOptimizer.cpp's adamRange (with VerifiableMath), line by line; its square root and
// division from include/verifiable_math.glsl. One element per invocation, no accumulation, every float
// `precise` (NoContraction, checked at build time). Bindings and the scalars buffer as optim_adam.comp
// (raven::AdamStepScalars: beta1, 1 - beta1, beta2, 1 - beta2, 1 / sqrt(bias correction 2), eps, step
// size, weight decay, decay factor); the two flags say which of the CPU's template cases applies.
#include "verifiable_math.glsl"

layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Param { float param[]; };
layout(std430, set = 0, binding = 1) readonly buffer Grad { float grad[]; };
layout(std430, set = 0, binding = 2) readonly buffer ExpAvg { float expAvg[]; };      // grad when firstStep
layout(std430, set = 0, binding = 3) readonly buffer ExpAvgSq { float expAvgSq[]; };  // alike
layout(std430, set = 0, binding = 4) writeonly buffer ParamOut { float paramOut[]; };
layout(std430, set = 0, binding = 5) writeonly buffer ExpAvgOut { float expAvgOut[]; };
layout(std430, set = 0, binding = 6) writeonly buffer ExpAvgSqOut { float expAvgSqOut[]; };
layout(std430, set = 0, binding = 7) readonly buffer Scalars { float scalars[]; };

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
    uint coupled;    // weight decay != 0: L2 decay added to the gradient
    uint decoupled;  // decay factor != 1: AdamW's decay of the parameter
} q;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= q.n) return;
    precise float beta1 = scalars[0];
    precise float oneMinusBeta1 = scalars[1];
    precise float beta2 = scalars[2];
    precise float oneMinusBeta2 = scalars[3];
    precise float invSqrtCorrection2 = scalars[4];
    precise float eps = scalars[5];
    precise float stepSize = scalars[6];
    precise float weightDecay = scalars[7];
    precise float decayFactor = scalars[8];

    precise float pi = param[q.paramOffset + i];
    precise float gi = grad[q.gradOffset + i];
    if (q.decoupled != 0u) pi = pi * decayFactor;
    if (q.coupled != 0u) {
        precise float decay = param[q.paramOffset + i] * weightDecay;
        gi = gi + decay;
    }
    precise float ga = gi * oneMinusBeta1;
    precise float mi = ga;
    if (q.firstStep == 0u) mi = expAvg[q.expAvgOffset + i] * beta1 + ga;
    precise float gg = gi * gi;
    precise float gga = gg * oneMinusBeta2;
    precise float vi = gga;
    if (q.firstStep == 0u) vi = expAvgSq[q.expAvgSqOffset + i] * beta2 + gga;
    precise float root = vSqrt(vi);
    precise float denom = root * invSqrtCorrection2 + eps;
    precise float ratio = vDiv(mi, denom);
    precise float stepped = ratio * stepSize;
    precise float next = pi - stepped;
    paramOut[q.paramOutOffset + i] = next;
    expAvgOut[q.expAvgOutOffset + i] = mi;
    expAvgSqOut[q.expAvgSqOutOffset + i] = vi;
}
