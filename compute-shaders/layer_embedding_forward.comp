#version 450
// Embedding lookup, one invocation per output element: y[i, c] = weight[indices[i], c]. Indices arrive
// as floats holding integers (the Backend's convention). A shader cannot throw: an index that is not an
// integer in [0, vocabulary) gives a NaN row, and the host checks indices where it can see them.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Indices { float indices[]; };
layout(std430, set = 0, binding = 1) readonly buffer Weight { float weight[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Output { float y[]; };

layout(push_constant) uniform Params { uint vocabulary, dim, count; } p;

void main() {
    const uint e = gl_GlobalInvocationID.x;
    if (e >= p.count * p.dim) return;
    const uint i = e / p.dim, c = e % p.dim;
    const float index = indices[i];
    if (index >= 0.0 && index < float(p.vocabulary) && index == floor(index))
        y[e] = weight[uint(index) * p.dim + c];
    else
        y[e] = uintBitsToFloat(0x7fc00000u);  // NaN
}
