#version 450
// The matrix product of the verifiable kernel mode: the twin of core/cpu/kernels/VerifiableGemm.cpp
// (sgemmFixedOrder), read line by line against its microTile and panelProduct. One invocation computes
// one element of C alone:
//     acc = 0;  for p = 0 .. k-1:  acc = acc + a(i, p) * b(p, j)   (a rounded product, then a rounded sum)
//     c(i, j) = beta == 0 ? acc : beta * c(i, j) + acc           (beta = 1 and c = the bias, with a bias)
// so the order of every sum depends on k alone: no tile in shared memory that changes it, no split-k,
// no subgroup arithmetic, no atomics; the workgroup size only decides who computes which element.
// Every float is `precise` (NoContraction), which the build checks on the SPIR-V.
//
// Operands are read with any strides (A and B as [batch][rows][cols] with the strides below; C is
// contiguous). Bindings: 0 A, 1 B, 2 bias (bound to A when there is none), 3 C.
layout(local_size_x = 8, local_size_y = 8) in;

layout(std430, set = 0, binding = 0) readonly buffer A { float a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { float b[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 3) writeonly buffer C { float c[]; };

layout(push_constant) uniform Params {
    uint m, n, k, batch;
    uint aOffset, bOffset, cOffset, biasOffset;
    uint aRowStride, aColStride, aBatchStride;
    uint bRowStride, bColStride, bBatchStride;
    uint biasStride, hasBias;
} params;

void main() {
    uint j = gl_GlobalInvocationID.x;
    uint i = gl_GlobalInvocationID.y;
    uint batch = gl_GlobalInvocationID.z;
    if (i >= params.m || j >= params.n || batch >= params.batch) return;
    uint aRow = params.aOffset + batch * params.aBatchStride + i * params.aRowStride;
    uint bColumn = params.bOffset + batch * params.bBatchStride + j * params.bColStride;
    precise float acc = 0.0;
    for (uint p = 0u; p < params.k; ++p) {
        precise float product = a[aRow + p * params.aColStride] * b[bColumn + p * params.bRowStride];
        acc = acc + product;
    }
    precise float sum = acc;
    precise float result = sum;
    if (params.hasBias != 0u) {
        precise float beta = 1.0;
        precise float scaled = beta * bias[params.biasOffset + j * params.biasStride];
        result = scaled + sum;
    }
    c[params.cOffset + (batch * params.m + i) * params.n + j] = result;
}
