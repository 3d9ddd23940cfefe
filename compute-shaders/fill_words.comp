#version 450
// data[offset + i] = value for i < n, as 32-bit words (a float's bits, or a uint status word), so
// every bit pattern arrives exactly.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Data { uint data[]; };

layout(push_constant) uniform Params {
    uint n;
    uint offset;
    uint value;
} p;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i < p.n) data[p.offset + i] = p.value;
}
