// What gemm_tiled.comp and gemm_blocked.comp share: their bindings, push constants (the host's
// GemmPush, VulkanMatmul.cpp) and where one workgroup's batch element and K slice start.
//
// C = A B (+ bias broadcast over rows) for a batch of up to three dimensions: A [M, K] and B [K, N]
// with any strides (transposed views read in place), C [M, N] with row stride ldc. Split-k (splits > 1):
// workgroup z = batch * splits + s covers k in [s * kSplit, min(K, (s + 1) * kSplit)) and writes to
// C + s * cSplitStride. flags: 1 adds the bias, 2 accumulates onto what C holds (a product cut along K).

// The vec4 views alias the same bindings (the host only picks them for aligned operands).
layout(std430, set = 0, binding = 0) readonly buffer A { float a[]; };
layout(std430, set = 0, binding = 0) readonly buffer A4 { vec4 a4[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { float b[]; };
layout(std430, set = 0, binding = 1) readonly buffer B4 { vec4 b4[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 3) buffer C { float c[]; };
layout(std430, set = 0, binding = 3) buffer C4 { vec4 c4[]; };

layout(push_constant) uniform Params {
    uint M, N, K;
    uint aOffset, bOffset, cOffset, biasOffset;
    uint flags;  // 1: add the bias; 2: accumulate onto C
    uint biasStride;
    uint aRowStride, aColStride, bRowStride, bColStride;
    uint ldc, cBatchStride;
    uint splits, kSplit, cSplitStride;
    uint batchShape[3];
    uint aBatchStride[3];
    uint bBatchStride[3];
} p;

const uint GEMM_ADD_BIAS = 1u;
const uint GEMM_ACCUMULATE = 2u;

// The element offsets of this workgroup's A, B and C, and its range of k.
struct GemmSlice {
    uint aBase, bBase, cBase;
    uint kBegin, kEnd;
};

GemmSlice gemmSlice() {
    GemmSlice s;
    uint split = gl_WorkGroupID.z % p.splits;
    uint batch = gl_WorkGroupID.z / p.splits;
    s.kBegin = split * p.kSplit;
    s.kEnd = min(p.K, s.kBegin + p.kSplit);
    s.aBase = p.aOffset;
    s.bBase = p.bOffset;
    uint rem = batch;
    for (int d = 2; d >= 0; --d) {
        uint index = rem % p.batchShape[d];
        rem /= p.batchShape[d];
        s.aBase += index * p.aBatchStride[d];
        s.bBase += index * p.bBatchStride[d];
    }
    s.cBase = p.cOffset + batch * p.cBatchStride + split * p.cSplitStride;
    return s;
}
