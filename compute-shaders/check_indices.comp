#version 450
// Checks integer data held as floats (embedding indices): every value must be an integer in
// [0, limit). The smallest position of a bad value lowers the status word (an integer atomic); the
// host reports it at its next sync point, so checking never forces a submission.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Values { float values[]; };
layout(std430, set = 0, binding = 1) buffer Status { uint firstBad; };

layout(push_constant) uniform Params {
    uint n;
    uint offset;
    float limit;
} p;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= p.n) return;
    float v = values[p.offset + i];
    if (!(v >= 0.0 && v < p.limit && floor(v) == v)) atomicMin(firstBad, i);
}
