#version 450
// 2-D convolution as an implicit GEMM (no im2col buffer: the tiles gather their elements straight from
// the NCHW tensors), in three modes chosen by the specialization constant MODE, one group of channels
// per workgroup z. With Cg = C / groups, Kg = K / groups, taps = kernelH * kernelW, P = outH * outW:
//   MODE 0, forward:          y[n, g*Kg+m, p]     = sum over (c, tap) of w[g*Kg+m, c, tap] * x(n, c, tap, p) + bias
//   MODE 1, input gradient:   dx[n, g*Cg+c, q]    = sum over (k, tap) of w[g*Kg+k, c, tap] * dy(n, k, tap, q)
//   MODE 2, weight gradient:  dw[g*Kg+m, c, tap]  = sum over (n, p) of dy[n, g*Kg+m, p] * x(n, c, tap, p)
// where x(n, c, tap, p) is the input under tap at output position p (zero in the padding) and
// dy(n, k, tap, q) the output gradient whose window puts tap on input position q (zero if none does).
// Every sum runs in index order (layer_gemm_tile.glsl), without atomics. The weight gradient's sum over
// the batch and positions may be split (splits > 1, chosen from the shape alone, Conv2d.cpp): workgroup
// z = group * splits + s sums k in [s * kSplit, (s + 1) * kSplit) into slice s of the result (slices of
// the weight's size, one after another), and layer-agnostic gemm_splitk_reduce.comp then adds the slices
// in ascending order. Bindings: 0 = A operand, 1 = B operand, 2 = bias (mode 0), 3 = result.
//
// Index arithmetic is most of this kernel's cost (a gathered element needs its column and tap decoded
// by integer divisions): the kernel's height, width and strides are specialization constants, so
// divisions by them are multiplications; divisions by outH * outW and outW use constants the host
// computed (raven_divide.glsl); and an invocation keeps its last decoded column (in modes 0 and 1 an
// invocation loads the same column of B at every step of K).
#extension GL_GOOGLE_include_directive : require
#include "raven_divide.glsl"

layout(constant_id = 5) const uint MODE = 0;
layout(constant_id = 6) const uint KERNEL_H = 1;
layout(constant_id = 7) const uint KERNEL_W = 1;
layout(constant_id = 8) const uint STRIDE_H = 1;
layout(constant_id = 9) const uint STRIDE_W = 1;
const uint TAPS = KERNEL_H * KERNEL_W;

layout(std430, set = 0, binding = 0) readonly buffer OperandA { float opA[]; };
layout(std430, set = 0, binding = 1) readonly buffer OperandB { float opB[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 3) writeonly buffer Result { float result[]; };

layout(push_constant) uniform Params {
    uint batch, inChannels, height, width, outChannels;
    uint kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW;  // the first four: see KERNEL_H..
    uint groups, outH, outW, hasBias;
    uint splits, kSplit;  // mode 2 only; 1 and K otherwise
    uint positionsMagic[3], outWMagic[3];  // r_divide by outH * outW and by outW
} p;

uvec3 positionsMagic() { return uvec3(p.positionsMagic[0], p.positionsMagic[1], p.positionsMagic[2]); }
uvec3 outWMagic() { return uvec3(p.outWMagic[0], p.outWMagic[1], p.outWMagic[2]); }

uint cPerGroup() { return p.inChannels / p.groups; }
uint kPerGroup() { return p.outChannels / p.groups; }
uint taps() { return TAPS; }
uint group() { return gl_WorkGroupID.z / p.splits; }
uint slice() { return gl_WorkGroupID.z % p.splits; }

// The last column an invocation decoded: its first element, and the top-left corner (modes 0, 2) or
// position (mode 1) of its window.
uint memoColumn = 0xffffffffu;
uint memoBase;
int memoRow, memoCol;

// x (bound as operand B in modes 0 and 2) at row `tap` = (c, i, j) of the im2col matrix and column
// `column` = (n, oh, ow).
float im2col(uint tap, uint column) {
    if (column != memoColumn) {
        const uint positions = p.outH * p.outW;
        const uint n = r_divide(column, positionsMagic()), q = column - n * positions;
        const uint oh = r_divide(q, outWMagic()), ow = q - oh * p.outW;
        memoColumn = column;
        memoBase = (n * p.inChannels + group() * cPerGroup()) * p.height * p.width;
        memoRow = int(oh * STRIDE_H) - int(p.padH);
        memoCol = int(ow * STRIDE_W) - int(p.padW);
    }
    const uint c = tap / TAPS, t = tap % TAPS;
    const uint i = t / KERNEL_W, j = t % KERNEL_W;
    const int ih = memoRow + int(i * p.dilationH);
    const int iw = memoCol + int(j * p.dilationW);
    if (ih < 0 || iw < 0 || ih >= int(p.height) || iw >= int(p.width)) return 0.0;
    return opB[memoBase + (c * p.height + uint(ih)) * p.width + uint(iw)];
}

// dy (operand B in mode 1) at row (k, i, j) and column (n, ih, iw): the output position whose window
// places tap (i, j) on input (ih, iw), if any.
float col2imGather(uint row, uint column) {
    if (column != memoColumn) {
        const uint plane = p.height * p.width;
        const uint n = column / plane, q = column % plane;
        memoColumn = column;
        memoBase = (n * p.outChannels + group() * kPerGroup()) * p.outH * p.outW;
        memoRow = int(q / p.width + p.padH);
        memoCol = int(q % p.width + p.padW);
    }
    const uint k = row / TAPS, t = row % TAPS;
    const uint i = t / KERNEL_W, j = t % KERNEL_W;
    const int th = memoRow - int(i * p.dilationH);
    const int tw = memoCol - int(j * p.dilationW);
    if (th < 0 || tw < 0) return 0.0;
    if (uint(th) % STRIDE_H != 0 || uint(tw) % STRIDE_W != 0) return 0.0;
    const uint oh = uint(th) / STRIDE_H, ow = uint(tw) / STRIDE_W;
    if (oh >= p.outH || ow >= p.outW) return 0.0;
    return opB[memoBase + (k * p.outH + oh) * p.outW + ow];
}

float loadA(uint m, uint k) {
    if (MODE == 0) return opA[(group() * kPerGroup() + m) * cPerGroup() * taps() + k];
    if (MODE == 1) {
        const uint kk = k / taps(), t = k % taps();
        return opA[((group() * kPerGroup() + kk) * cPerGroup() + m) * taps() + t];
    }
    const uint positions = p.outH * p.outW;
    const uint n = r_divide(k, positionsMagic()), q = k - n * positions;
    return opA[(n * p.outChannels + group() * kPerGroup() + m) * positions + q];
}

float loadB(uint k, uint n) {
    if (MODE == 0) return im2col(k, n);
    if (MODE == 1) return col2imGather(k, n);
    return im2col(n, k);
}

#include "layer_gemm_tile.glsl"

void main() {
    const uint positions = p.outH * p.outW;
    uint M, N, K;
    if (MODE == 0) {
        M = kPerGroup(); N = p.batch * positions; K = cPerGroup() * taps();
    } else if (MODE == 1) {
        M = cPerGroup(); N = p.batch * p.height * p.width; K = kPerGroup() * taps();
    } else {
        M = kPerGroup(); N = cPerGroup() * taps(); K = p.batch * positions;
    }
    const uint m0 = gl_WorkGroupID.y * TM, n0 = gl_WorkGroupID.x * TN;
    const uint kBegin = slice() * p.kSplit;
    gemmTileRange(M, N, kBegin, min(K, kBegin + p.kSplit), m0, n0);

    for (uint i = 0; i < RM; ++i) {
        const uint m = m0 + gemmRow(i);
        if (m >= M) continue;
        for (uint j = 0; j < RN; ++j) {
            const uint n = n0 + gemmCol(j);
            if (n >= N) continue;
            if (MODE == 0) {
                const uint k = group() * kPerGroup() + m;
                const uint b = n / positions, q = n % positions;
                float value = gemmAcc[i][j];
                if (p.hasBias != 0) value += bias[k];
                result[(b * p.outChannels + k) * positions + q] = value;
            } else if (MODE == 1) {
                const uint plane = p.height * p.width;
                const uint b = n / plane, q = n % plane;
                result[(b * p.inChannels + group() * cPerGroup() + m) * plane + q] = gemmAcc[i][j];
            } else {
                const uint weights = p.outChannels * N;
                result[slice() * weights + (group() * kPerGroup() + m) * N + n] = gemmAcc[i][j];
            }
        }
    }
}
