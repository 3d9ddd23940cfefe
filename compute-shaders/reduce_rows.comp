#version 450
// Sum or maximum of each row of a contiguous [rows, rowLength] block: y[g] for workgroup g reduces
// chunk g % chunksPerRow of row g / chunksPerRow (elements [c * chunk, min(rowLength, (c+1) * chunk))).
// Long rows are reduced in two or more passes of whole chunks (VulkanReduce.cpp). A pass larger than
// one binding is cut into dispatches of whole workgroups: g counts from groupBase, and xOffset is that
// of the dispatch's first element (row rowBase, column firstBegin) in the bound window. Order: lane l
// accumulates elements l, l + 64, ... of its chunk in sequence, then the 64 lanes meet in a fixed
// pairwise tree (raven_workgroup_reduce.glsl): it depends on the shape alone.
#include "raven_math.glsl"
#include "raven_workgroup_reduce.glsl"

layout(local_size_x = 64) in;
layout(constant_id = 0) const uint OP = 0;  // 0 sum, 1 max

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Params {
    uint rowLength;
    uint chunk;
    uint chunksPerRow;
    uint xOffset;     // of element firstBegin of row rowBase
    uint yOffset;     // of output groupBase
    uint groupBase;   // the first workgroup of this dispatch
    uint rowBase;     // its row: groupBase / chunksPerRow
    uint firstBegin;  // its first column: (groupBase % chunksPerRow) * chunk
} p;

void main() {
    uint g = gl_WorkGroupID.x + p.groupBase;
    uint lane = gl_LocalInvocationID.x;
    uint row = g / p.chunksPerRow;
    uint begin = (g % p.chunksPerRow) * p.chunk;
    uint end = min(p.rowLength, begin + p.chunk);
    uint base = p.xOffset + (row - p.rowBase) * p.rowLength;  // + r - firstBegin: never below the window
    float acc = OP == 0 ? 0.0 : -R_INF;
    for (uint r = begin + lane; r < end; r += R_LANES) {
        float v = x[base + r - p.firstBegin];
        acc = OP == 0 ? acc + v : r_max(acc, v);
    }
    float total = OP == 0 ? r_workgroup_sum(acc) : r_workgroup_max(acc);
    if (lane == 0) y[p.yOffset + gl_WorkGroupID.x] = total;
}
