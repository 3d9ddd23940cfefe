#version 450
// Sum or maximum over axes in the verifiable kernel mode: the twin of core/cpu/CpuReduce.cpp's order,
// line by line. One invocation per output (no workgroup tree, whose order would differ from the CPU's):
// its R reduced elements, in row-major order of the reduced axes, are cut into blocks of kBlock; in a
// block element i goes to lane i % 8, each lane accumulates in order from the op's identity, and the
// lanes meet as ((0+1)+(2+3))+((4+5)+(6+7)); the blocks' results are then combined in order. Output o
// reads x[xOffset + (o / inner) * outerStride + (o % inner) * innerStride + r * reducedStride]: the
// host's "inner" layout (inner = 1, reduced elements contiguous) or "outer" one ([A, R, C], bias
// gradients), the CPU's two loop nests, which compute the same order. Every float `precise`.
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint OP = 0;  // 0 sum, 1 max

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Params {
    uint outputs;
    uint reduced;  // R
    uint inner;
    uint xOffset;
    uint yOffset;
    uint outerStride;
    uint innerStride;
    uint reducedStride;
} p;

const uint kBlock = 65536u;  // CpuReduce.cpp's kBlock
const uint kLanes = 8u;

// SumOp and MaxOp of CpuReduce.cpp (max: `b > a ? b : a`, so a NaN already held is kept).
precise float combine(float a, float b) { return OP == 0u ? a + b : (b > a ? b : a); }

void main() {
    uint o = gl_GlobalInvocationID.x;
    if (o >= p.outputs) return;
    uint base = p.xOffset + (o / p.inner) * p.outerStride + (o % p.inner) * p.innerStride;
    precise float init = OP == 0u ? 0.0 : uintBitsToFloat(0xff800000u);  // the op's identity (-inf for max)
    precise float total = init;
    for (uint b = 0u; b < p.reduced || b == 0u; b += kBlock) {
        uint n = min(kBlock, p.reduced - b);  // 0 for an empty axis: the identity comes out
        precise float acc[kLanes];
        for (uint l = 0u; l < kLanes; ++l) acc[l] = init;
        uint i = 0u;
        for (; i + kLanes <= n; i += kLanes)
            for (uint l = 0u; l < kLanes; ++l) acc[l] = combine(acc[l], x[base + (b + i + l) * p.reducedStride]);
        for (uint l = 0u; i + l < n; ++l) acc[l] = combine(acc[l], x[base + (b + i + l) * p.reducedStride]);
        precise float v = combine(combine(combine(acc[0], acc[1]), combine(acc[2], acc[3])),
                                  combine(combine(acc[4], acc[5]), combine(acc[6], acc[7])));
        total = b == 0u ? v : combine(total, v);
        if (p.reduced == 0u) break;
    }
    y[p.yOffset + o] = total;
}
