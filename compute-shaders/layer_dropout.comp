#version 450
// Dropout (forward and backward alike): out[i] = in[i] * scale where element offset + i of stream seed
// is kept (uniform >= p), else 0, with the CPU kernel's Philox4x32-10 (layer_philox.glsl), so masks are
// bit-identical to core/cpu/kernels/Dropout.cpp. scale = 1 / (1 - p), computed by the host in float.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { float inputs[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Output { float outputs[]; };

layout(push_constant) uniform Params {
    uint count;
    float p, scale;
    uint seedLow, seedHigh, offsetLow, offsetHigh;
} p;

#include "layer_philox.glsl"

void main() {
    const uint i = gl_GlobalInvocationID.x;
    if (i >= p.count) return;
    const uvec2 element = add64(uvec2(p.offsetLow, p.offsetHigh), i);
    const bool keep = uniformFromWord(philoxWord(uvec2(p.seedLow, p.seedHigh), element)) >= p.p;
    outputs[i] = keep ? inputs[i] * p.scale : 0.0;
}
