#version 450
// Softmax, log-softmax, their gradients and cross-entropy in the verifiable kernel mode: the twins of
// core/cpu/CpuSoftmax.cpp's row functions (instantiated with VerifiableMath), line by line. One
// invocation per row of contiguous operands [rows, cols]; every row is reduced sequentially from its
// first element to its last, as on the CPU (no workgroup tree). exp, log and division come from
// include/verifiable_math.glsl; every float is `precise`.
//
// MODE 0 softmax(x) | 1 logSoftmax(x) | 2 softmaxBackward(y = a, g) | 3 logSoftmaxBackward(y = a, g)
//      4 crossEntropy(logits = a, targets) -> [rows] | 5 crossEntropyBackward(logits = a, targets, g[rows])
// A target that is not a class index in [0, cols) lowers the status word to the smallest such row
// (an integer atomic; the host reports it at the next sync point, as cross_entropy.comp does).
#include "verifiable_math.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MODE = 0;

layout(std430, set = 0, binding = 0) readonly buffer A { float a[]; };
layout(std430, set = 0, binding = 1) readonly buffer G { float g[]; };
layout(std430, set = 0, binding = 2) readonly buffer T { float targets[]; };
layout(std430, set = 0, binding = 3) buffer Out { float o[]; };  // softmax reads back what it wrote
layout(std430, set = 0, binding = 4) buffer Status { uint firstBadRow; };

layout(push_constant) uniform Params {
    uint rows;
    uint cols;
    uint aOffset;
    uint gOffset;
    uint tOffset;
    uint oOffset;
    float labelSmoothing;
} p;

// rowMax: the first element, then each later one that compares greater.
precise float rowMax(uint xr) {
    precise float m = a[xr];
    for (uint i = 1u; i < p.cols; ++i) m = a[xr + i] > m ? a[xr + i] : m;
    return m;
}

// rowLogSumExp's log(sum(exp(x - max))), the maximum given.
precise float rowLogSum(uint xr, float m) {
    precise float s = 0.0;
    for (uint i = 0u; i < p.cols; ++i) {
        precise float d = a[xr + i] - m;
        s += vExp(d);
    }
    return vLog(s);
}

// targetClass: -1 (and the status word lowered) when t is not an integer in [0, cols).
int targetClass(uint r) {
    float t = targets[p.tOffset + r];
    if (!(t >= 0.0) || floor(t) != t || t >= float(p.cols)) {
        atomicMin(firstBadRow, r);
        return -1;
    }
    return int(t);
}

void main() {
    uint r = gl_GlobalInvocationID.x;
    if (r >= p.rows) return;
    uint xr = p.aOffset + r * p.cols;
    uint gr = p.gOffset + r * p.cols;
    uint yr = p.oOffset + r * p.cols;
    if (MODE == 0u) {
        precise float m = rowMax(xr);
        precise float s = 0.0;
        for (uint i = 0u; i < p.cols; ++i) {
            precise float d = a[xr + i] - m;
            precise float e = vExp(d);
            o[yr + i] = e;
            s += e;
        }
        precise float inv = vDiv(1.0, s);
        for (uint i = 0u; i < p.cols; ++i) {
            precise float e = o[yr + i];
            precise float v = e * inv;
            o[yr + i] = v;
        }
    } else if (MODE == 1u) {
        precise float m = rowMax(xr);
        precise float logSum = rowLogSum(xr, m);
        for (uint i = 0u; i < p.cols; ++i) {
            precise float v = (a[xr + i] - m) - logSum;
            o[yr + i] = v;
        }
    } else if (MODE == 2u) {
        precise float dot = 0.0;
        for (uint i = 0u; i < p.cols; ++i) {
            precise float gy = g[gr + i] * a[xr + i];
            dot += gy;
        }
        for (uint i = 0u; i < p.cols; ++i) {
            precise float v = a[xr + i] * (g[gr + i] - dot);
            o[yr + i] = v;
        }
    } else if (MODE == 3u) {
        precise float s = 0.0;
        for (uint i = 0u; i < p.cols; ++i) s += g[gr + i];
        for (uint i = 0u; i < p.cols; ++i) {
            precise float es = vExp(a[xr + i]) * s;
            precise float v = g[gr + i] - es;
            o[yr + i] = v;
        }
    } else {
        int cls = targetClass(r);
        if (cls < 0) return;  // reported by the host; the outputs are not used
        precise float ls = p.labelSmoothing;
        precise float smoothPerClass = vDiv(ls, float(max(p.cols, 1u)));
        precise float m = rowMax(xr);
        precise float logSum = rowLogSum(xr, m);
        if (MODE == 4u) {
            // -sum_c q_c log_softmax_c with q = (1 - s) onehot + s / C; log_softmax_c = (x_c - max) - logSum.
            precise float loss = (1.0 - ls) * (logSum - (a[xr + uint(cls)] - m));
            if (ls != 0.0) {
                precise float s = 0.0;
                for (uint i = 0u; i < p.cols; ++i) s += logSum - (a[xr + i] - m);
                loss += smoothPerClass * s;
            }
            o[p.oOffset + r] = loss;
        } else {
            precise float gLoss = g[p.gOffset + r];
            for (uint i = 0u; i < p.cols; ++i) {
                precise float e = vExp((a[xr + i] - m) - logSum);
                precise float v = gLoss * (e - smoothPerClass);
                o[yr + i] = v;
            }
            precise float hit = o[yr + uint(cls)] - gLoss * (1.0 - ls);
            o[yr + uint(cls)] = hit;
        }
    }
}
