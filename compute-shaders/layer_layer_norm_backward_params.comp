#version 450
// dL/dweight and dL/dbias of layer normalization, one invocation per feature, summing the rows in
// order (no atomics): dweight[i] = sum over rows of dy * xhat, dbias[i] = sum over rows of dy.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer Mean { float mean[]; };
layout(std430, set = 0, binding = 2) readonly buffer Rstd { float rstd[]; };
layout(std430, set = 0, binding = 3) readonly buffer GradOutput { float dy[]; };
layout(std430, set = 0, binding = 4) writeonly buffer GradWeight { float dweight[]; };
layout(std430, set = 0, binding = 5) writeonly buffer GradBias { float dbias[]; };

layout(push_constant) uniform Params { uint rows, features, wantWeight, wantBias; } p;

void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= p.features) return;
    float sumW = 0.0, sumB = 0.0;
    for (uint r = 0; r < p.rows; ++r) {
        const float g = dy[r * p.features + i];
        sumW += g * (x[r * p.features + i] - mean[r]) * rstd[r];
        sumB += g;
    }
    if (p.wantWeight != 0) dweight[i] = sumW;
    if (p.wantBias != 0) dbias[i] = sumB;
}
