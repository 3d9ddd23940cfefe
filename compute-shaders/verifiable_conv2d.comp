#version 450
// 2-D convolution in the verifiable kernel mode: the twin of core/cpu/kernels/Conv2d.cpp with
// sgemmFixedOrder as its product (VerifiableGemm.h: acc = 0; acc = acc + a*b for p = 0 .. k-1;
// c = beta == 0 ? acc : beta * c + acc). The CPU builds im2col's columns and multiplies; here each
// invocation reads the same column entries straight from x (0 outside the input, as im2col writes)
// and follows the same p order, so every sum has the CPU's terms in the CPU's order.
//   MODE 0  forward, one invocation per y[n, k, oh, ow]: acc over r = (c, i, j) of w[k, r] * col[r, (oh, ow)],
//           then 1 * bias[k] + acc (the CPU fills y with the bias and multiplies with beta 1) or acc.
//   MODE 1  input gradient, one invocation per dx[n, c, ih, iw]: dcol[r, q] = acc over k of w[k, r] * dy[k, q]
//           (beta 0), then col2im's adjoint as a gather: from 0, the dcol entries read from this input
//           in col2im's order (i, j, oh, ow); for (i, j) at most one (oh, ow) reads it. A pointwise
//           convolution (1x1, stride 1, no padding) writes dcol itself (the CPU skips col2im).
//   MODE 2  weight gradient per sample, one invocation per (n, k, r): acc over q of dy[n, k, q] * col[r, q],
//           into scratch[n, k, r].
//   MODE 3  weight gradient, one invocation per (k, r): the CPU's chunks of samples (their size from the
//           batch alone) each summed as its products are, the first with beta 0 and the others as
//           1 * s + acc, then the chunks added in order; the per-sample sums read from MODE 2's scratch.
//   MODE 4  as MODE 3 with each per-sample sum computed in place (where the scratch would not fit).
// Every float `precise` (the build checks the SPIR-V). The bias gradient is verifiable_conv2d_bias.comp.
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 0;

layout(std430, set = 0, binding = 0) readonly buffer In0 { float x[]; };       // x (MODE 0, 2, 4); dy (MODE 1)
layout(std430, set = 0, binding = 1) readonly buffer In1 { float w[]; };       // weight (0, 1); dy (2, 4); scratch (3)
layout(std430, set = 0, binding = 2) readonly buffer In2 { float bias[]; };    // bias (MODE 0 with hasBias)
layout(std430, set = 0, binding = 3) writeonly buffer Out0 { float result[]; };

layout(push_constant) uniform Params {
    uint batch, inChannels, height, width, outChannels;
    uint kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW;
    uint groups, outH, outW, hasBias, pointwise;
    uint chunk;  // samples per chunk of the weight gradient (Conv2d.cpp's samplesPerChunk)
} p;

uint taps() { return p.kernelH * p.kernelW; }
uint cPerGroup() { return p.inChannels / p.groups; }
uint kPerGroup() { return p.outChannels / p.groups; }
uint colRows() { return cPerGroup() * taps(); }
uint positions() { return p.outH * p.outW; }

// x at (plane, ih, iw), or 0 outside the input (im2col's padding).
float tapped(uint plane, int ih, int iw) {
    if (ih < 0 || ih >= int(p.height) || iw < 0 || iw >= int(p.width)) return 0.0;
    return x[(plane * p.height + uint(ih)) * p.width + uint(iw)];
}

// acc over r = (c, i, j) in order (nested loops: no division per tap) of w[k, r] * col[r, (oh, ow)].
void forwardOne(uint o) {
    if (o >= p.batch * p.outChannels * positions()) return;
    const uint q = o % positions(), nk = o / positions();
    const uint k = nk % p.outChannels, n = nk / p.outChannels;
    const uint g = k / kPerGroup();
    const int ih0 = int((q / p.outW) * p.strideH) - int(p.padH);
    const int iw0 = int((q % p.outW) * p.strideW) - int(p.padW);
    uint r = k * colRows();
    precise float acc = 0.0;
    for (uint cc = 0; cc < cPerGroup(); ++cc) {
        const uint plane = n * p.inChannels + g * cPerGroup() + cc;
        for (uint i = 0; i < p.kernelH; ++i) {
            const int ih = ih0 + int(i * p.dilationH);
            for (uint j = 0; j < p.kernelW; ++j) {
                precise float product = w[r] * tapped(plane, ih, iw0 + int(j * p.dilationW));
                acc = acc + product;
                ++r;
            }
        }
    }
    if (p.hasBias != 0u) {
        precise float scaled = 1.0 * bias[k];
        acc = scaled + acc;
    }
    result[o] = acc;
}

// dcol[r, q] of group g for sample n: acc over the group's output channels k of w[k, r] * dy[n, k, q].
float columnGradient(uint n, uint g, uint r, uint q) {
    precise float acc = 0.0;
    for (uint kk = 0; kk < kPerGroup(); ++kk) {
        const uint k = g * kPerGroup() + kk;
        precise float product = w[k * colRows() + r] * x[(n * p.outChannels + k) * positions() + q];
        acc = acc + product;
    }
    return acc;
}

void inputGradientOne(uint e) {
    const uint plane = p.height * p.width;
    if (e >= p.batch * p.inChannels * plane) return;
    const uint at = e % plane, nc = e / plane;
    const uint c = nc % p.inChannels, n = nc / p.inChannels;
    const uint g = c / cPerGroup(), cc = c % cPerGroup();
    const int ih = int(at / p.width), iw = int(at % p.width);
    if (p.pointwise != 0u) {
        result[e] = columnGradient(n, g, cc, at);
        return;
    }
    precise float sum = 0.0;
    for (uint i = 0; i < p.kernelH; ++i) {
        const int th = ih + int(p.padH) - int(i * p.dilationH);
        if (th < 0 || th % int(p.strideH) != 0 || th / int(p.strideH) >= int(p.outH)) continue;
        for (uint j = 0; j < p.kernelW; ++j) {
            const int tw = iw + int(p.padW) - int(j * p.dilationW);
            if (tw < 0 || tw % int(p.strideW) != 0 || tw / int(p.strideW) >= int(p.outW)) continue;
            const uint q = uint(th / int(p.strideH)) * p.outW + uint(tw / int(p.strideW));
            precise float term = columnGradient(n, g, (cc * p.kernelH + i) * p.kernelW + j, q);
            sum = sum + term;
        }
    }
    result[e] = sum;
}

// Sample n's product for weight element (k, r): acc over positions q = (oh, ow) in order (nested
// loops) of dy[n, k, q] * col[r, q]. `dy` is binding 1 in MODE 2 and 4.
float sampleWeightGradient(uint n, uint k, uint r) {
    const uint g = k / kPerGroup();
    const uint plane = n * p.inChannels + g * cPerGroup() + r / taps(), t = r % taps();
    const int rowTap = int((t / p.kernelW) * p.dilationH) - int(p.padH);
    const int colTap = int((t % p.kernelW) * p.dilationW) - int(p.padW);
    uint q = (n * p.outChannels + k) * positions();
    precise float acc = 0.0;
    for (uint oh = 0; oh < p.outH; ++oh) {
        const int ih = int(oh * p.strideH) + rowTap;
        for (uint ow = 0; ow < p.outW; ++ow) {
            precise float product = w[q] * tapped(plane, ih, int(ow * p.strideW) + colTap);
            acc = acc + product;
            ++q;
        }
    }
    return acc;
}

void weightGradientSampleOne(uint e) {
    const uint weights = p.outChannels * colRows();
    if (e >= p.batch * weights) return;
    const uint n = e / weights, kr = e % weights;
    result[e] = sampleWeightGradient(n, kr / colRows(), kr % colRows());
}

float sampleTerm(uint n, uint kr) {
    if (MODE == 3u) return w[n * p.outChannels * colRows() + kr];
    return sampleWeightGradient(n, kr / colRows(), kr % colRows());
}

void weightGradientCombineOne(uint kr) {
    if (kr >= p.outChannels * colRows()) return;
    precise float total = 0.0;
    for (uint first = 0; first < p.batch; first += p.chunk) {
        precise float sum = sampleTerm(first, kr);  // beta 0: the product alone
        for (uint n = first + 1; n < min(p.batch, first + p.chunk); ++n) {
            precise float scaled = 1.0 * sum;
            precise float term = sampleTerm(n, kr);
            sum = scaled + term;
        }
        if (first == 0u)
            total = sum;
        else
            total = total + sum;
    }
    result[kr] = total;
}

void main() {
    const uint id = gl_GlobalInvocationID.x;
    if (MODE == 0u)
        forwardOne(id);
    else if (MODE == 1u)
        inputGradientOne(id);
    else if (MODE == 2u)
        weightGradientSampleOne(id);
    else
        weightGradientCombineOne(id);
}
