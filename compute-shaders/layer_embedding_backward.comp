#version 450
// The weight gradient of an embedding as a gather, no atomics: workgroup (x, y) computes row v = y of
// dweight over a block of columns; each invocation walks the positions in order and adds dy[i, c]
// wherever indices[i] == v, so repeated indices sum in position order, as on the CPU. The padding row
// (paddingIndex, -1 = none) stays zero. The indices are staged through shared memory in chunks.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Indices { float indices[]; };
layout(std430, set = 0, binding = 1) readonly buffer GradOutput { float dy[]; };
layout(std430, set = 0, binding = 2) writeonly buffer GradWeight { float dweight[]; };

layout(push_constant) uniform Params { uint vocabulary, dim, count; int paddingIndex; } p;

shared float chunk[gl_WorkGroupSize.x];

void main() {
    const uint v = gl_WorkGroupID.y;
    const uint c = gl_WorkGroupID.x * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    const float self = float(v);
    float sum = 0.0;
    if (int(v) != p.paddingIndex) {
        for (uint start = 0; start < p.count; start += gl_WorkGroupSize.x) {
            const uint load = start + gl_LocalInvocationID.x;
            chunk[gl_LocalInvocationID.x] = load < p.count ? indices[load] : -1.0;
            barrier();
            const uint n = min(gl_WorkGroupSize.x, p.count - start);
            if (c < p.dim)
                for (uint j = 0; j < n; ++j)
                    if (chunk[j] == self) sum += dy[(start + j) * p.dim + c];
            barrier();
        }
    }
    if (c < p.dim) dweight[v * p.dim + c] = sum;
}
