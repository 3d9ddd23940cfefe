#version 450
// 2-D convolution as an implicit GEMM (no im2col buffer: the tiles gather their elements straight from
// the NCHW tensors), in three modes chosen by the specialization constant MODE, one group of channels
// per workgroup z. With Cg = C / groups, Kg = K / groups, taps = kernelH * kernelW, P = outH * outW:
//   MODE 0, forward:          y[n, g*Kg+m, p]     = sum over (c, tap) of w[g*Kg+m, c, tap] * x(n, c, tap, p) + bias
//   MODE 1, input gradient:   dx[n, g*Cg+c, q]    = sum over (k, tap) of w[g*Kg+k, c, tap] * dy(n, k, tap, q)
//   MODE 2, weight gradient:  dw[g*Kg+m, c, tap]  = sum over (n, p) of dy[n, g*Kg+m, p] * x(n, c, tap, p)
// where x(n, c, tap, p) is the input under tap at output position p (zero in the padding) and
// dy(n, k, tap, q) the output gradient whose window puts tap on input position q (zero if none does).
// Every sum runs in index order (layer_gemm_tile.glsl): the weight gradient sums the whole batch in
// order, without atomics. Bindings: 0 = A operand, 1 = B operand, 2 = bias (mode 0), 3 = result.
#extension GL_GOOGLE_include_directive : require

layout(constant_id = 5) const uint MODE = 0;

layout(std430, set = 0, binding = 0) readonly buffer OperandA { float opA[]; };
layout(std430, set = 0, binding = 1) readonly buffer OperandB { float opB[]; };
layout(std430, set = 0, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, set = 0, binding = 3) writeonly buffer Result { float result[]; };

layout(push_constant) uniform Params {
    uint batch, inChannels, height, width, outChannels;
    uint kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW;
    uint groups, outH, outW, hasBias;
} p;

uint cPerGroup() { return p.inChannels / p.groups; }
uint kPerGroup() { return p.outChannels / p.groups; }
uint taps() { return p.kernelH * p.kernelW; }
uint group() { return gl_WorkGroupID.z; }

// x (bound as operand B in modes 0 and 2) at row `tap` = (c, i, j) of the im2col matrix and column
// `column` = (n, oh, ow).
float im2col(uint tap, uint column) {
    const uint c = tap / taps(), t = tap % taps();
    const uint i = t / p.kernelW, j = t % p.kernelW;
    const uint positions = p.outH * p.outW;
    const uint n = column / positions, q = column % positions;
    const uint oh = q / p.outW, ow = q % p.outW;
    const int ih = int(oh * p.strideH) - int(p.padH) + int(i * p.dilationH);
    const int iw = int(ow * p.strideW) - int(p.padW) + int(j * p.dilationW);
    if (ih < 0 || iw < 0 || ih >= int(p.height) || iw >= int(p.width)) return 0.0;
    const uint channel = n * p.inChannels + group() * cPerGroup() + c;
    return opB[(channel * p.height + uint(ih)) * p.width + uint(iw)];
}

// dy (operand B in mode 1) at row (k, i, j) and column (n, ih, iw): the output position whose window
// places tap (i, j) on input (ih, iw), if any.
float col2imGather(uint row, uint column) {
    const uint k = row / taps(), t = row % taps();
    const uint i = t / p.kernelW, j = t % p.kernelW;
    const uint plane = p.height * p.width;
    const uint n = column / plane, q = column % plane;
    const uint ih = q / p.width, iw = q % p.width;
    const int th = int(ih + p.padH) - int(i * p.dilationH);
    const int tw = int(iw + p.padW) - int(j * p.dilationW);
    if (th < 0 || tw < 0) return 0.0;
    if (uint(th) % p.strideH != 0 || uint(tw) % p.strideW != 0) return 0.0;
    const uint oh = uint(th) / p.strideH, ow = uint(tw) / p.strideW;
    if (oh >= p.outH || ow >= p.outW) return 0.0;
    const uint channel = n * p.outChannels + group() * kPerGroup() + k;
    return opB[(channel * p.outH + oh) * p.outW + ow];
}

float loadA(uint m, uint k) {
    if (MODE == 0) return opA[(group() * kPerGroup() + m) * cPerGroup() * taps() + k];
    if (MODE == 1) {
        const uint kk = k / taps(), t = k % taps();
        return opA[((group() * kPerGroup() + kk) * cPerGroup() + m) * taps() + t];
    }
    const uint positions = p.outH * p.outW;
    const uint n = k / positions, q = k % positions;
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
    gemmTile(M, N, K, m0, n0);

    for (uint i = 0; i < RM; ++i) {
        const uint m = m0 + gl_LocalInvocationID.y + i * WY;
        if (m >= M) continue;
        for (uint j = 0; j < RN; ++j) {
            const uint n = n0 + gl_LocalInvocationID.x + j * WX;
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
                result[(group() * kPerGroup() + m) * N + n] = gemmAcc[i][j];
            }
        }
    }
}
