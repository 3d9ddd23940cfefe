#version 450
// c[i] = a[i] + b[i]. The Vulkan smoke test: proves the build, the embedding, the device and the
// validation layer work end to end. Length in a push constant; workgroup size a specialization constant.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer A { float a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { float b[]; };
layout(std430, set = 0, binding = 2) writeonly buffer C { float c[]; };

layout(push_constant) uniform Params { uint n; } params;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i < params.n) {
        c[i] = a[i] + b[i];
    }
}
