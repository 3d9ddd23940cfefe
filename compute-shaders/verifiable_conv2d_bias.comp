#version 450
// The bias gradient of a 2-D convolution in the verifiable kernel mode, the twin of
// core/cpu/kernels/Conv2d.cpp's: per output channel k, eight double lanes, position q of every sample
// (samples in order, then positions) added into lane q % 8, then
// ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)) rounded to float.
//
// One invocation per channel adds the terms [first, end) of the channel's sequence (t = n * positions
// + q) to its lanes, kept in `lanes` between dispatches: the host splits a long sequence into windows
// of a fixed length (VerifiableConv2d.cpp says why), each continuing where the previous one stopped,
// so the order of the additions is the CPU's whatever the split. The last window combines the lanes
// and writes dbias.
//
// The double arithmetic is only + of doubles that are sums of floats: every such value is a multiple of
// 2^-149, so no double subnormal arises and a correctly rounded double add is all it takes (IEEE 754,
// as Vulkan requires of OpFAdd). The two conversions, where a device could flush a float subnormal or
// round differently, are done here with integer operations: float to double exactly, double to float
// rounded to nearest, ties to even, as the x86 conversion the CPU uses (NaN quieted with its payload's
// top bits). Needs shaderFloat64 (the host checks it). Every float and double `precise`.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer In0 { float dy[]; };
layout(std430, set = 0, binding = 1) buffer Lanes { double lanes[]; };  // [channels, 8]
layout(std430, set = 0, binding = 2) writeonly buffer Out0 { float dbias[]; };

layout(push_constant) uniform Params {
    uint batch, channels, positions;
    uint first, end;  // the window of terms t = n * positions + q this dispatch adds
    uint last;        // 1: combine the lanes and write dbias
} p;

double widen(float f) {
    const uint bits = floatBitsToUint(f);
    const uint sign = bits & 0x80000000u;
    uint e = (bits >> 23) & 0xffu;
    uint m = bits & 0x7fffffu;
    if (e == 0xffu) return packDouble2x32(uvec2(m << 29, sign | 0x7ff00000u | (m >> 3)));  // Inf, NaN
    if (e == 0u) {
        if (m == 0u) return packDouble2x32(uvec2(0u, sign));
        const int top = findMSB(m);  // a subnormal: normalize, the leading bit becomes implicit
        m = (m << uint(23 - top)) & 0x7fffffu;
        e = uint(top - 22);  // biased float exponent of the normalized value, + 127 - 1023 below
        return packDouble2x32(uvec2(m << 29, sign | ((e + 896u) << 20) | (m >> 3)));
    }
    return packDouble2x32(uvec2(m << 29, sign | ((e + 896u) << 20) | (m >> 3)));
}

// (hi, lo) > (hh, hl) as one 64-bit unsigned number.
bool above(uint hi, uint lo, uint hh, uint hl) { return hi > hh || (hi == hh && lo > hl); }

float narrow(double d) {
    const uvec2 u = unpackDouble2x32(d);
    const uint sign = u.y & 0x80000000u;
    const int e = int((u.y >> 20) & 0x7ffu);
    const uint mh = u.y & 0xfffffu, ml = u.x;  // the 52-bit fraction, high 20 and low 32 bits
    if (e == 0x7ff) {
        if ((mh | ml) != 0u) return uintBitsToFloat(sign | 0x7fc00000u | (mh << 3) | (ml >> 29));
        return uintBitsToFloat(sign | 0x7f800000u);
    }
    const int fe = e - 1023 + 127;
    if (fe >= 0xff) return uintBitsToFloat(sign | 0x7f800000u);
    if (fe >= 1) {
        uint bits = sign | (uint(fe) << 23) | (mh << 3) | (ml >> 29);
        const uint rest = ml & 0x1fffffffu;
        if (rest > 0x10000000u || (rest == 0x10000000u && (bits & 1u) != 0u)) bits += 1u;  // may carry to Inf
        return uintBitsToFloat(bits);
    }
    // A float subnormal or zero: the 53-bit significand S (implicit bit included) times 2^(e - 1075),
    // in units of 2^-149: S >> shift with shift = 926 - e (>= 30), rounded to nearest even.
    if (e == 0) return uintBitsToFloat(sign);  // double zero or subnormal: far below 2^-150
    const int shift = 926 - e;
    if (shift > 54) return uintBitsToFloat(sign);  // below half of 2^-149
    const uint sh = mh | 0x100000u, sl = ml;
    uint q, rh, rl, hh, hl;
    if (shift >= 32) {
        const int s = shift - 32;  // 0 .. 22
        q = sh >> uint(s);
        rh = s == 0 ? 0u : sh & ((1u << uint(s)) - 1u);
        rl = sl;
        hh = s == 0 ? 0u : 1u << uint(s - 1);
        hl = s == 0 ? 0x80000000u : 0u;
    } else {  // 30 or 31
        q = (sh << uint(32 - shift)) | (sl >> uint(shift));
        rh = 0u;
        rl = sl & ((1u << uint(shift)) - 1u);
        hh = 0u;
        hl = 1u << uint(shift - 1);
    }
    if (above(rh, rl, hh, hl) || (rh == hh && rl == hl && (q & 1u) != 0u)) q += 1u;  // may become normal
    return uintBitsToFloat(sign | q);
}

void main() {
    const uint k = gl_GlobalInvocationID.x;
    if (k >= p.channels) return;
    precise double sums[8];
    for (uint l = 0; l < 8u; ++l) sums[l] = p.first == 0u ? 0.0lf : lanes[k * 8u + l];
    uint n = p.first / p.positions, q = p.first % p.positions;
    for (uint t = p.first; t < p.end; ++t) {
        precise double v = widen(dy[(n * p.channels + k) * p.positions + q]);
        sums[q % 8u] = sums[q % 8u] + v;
        if (++q == p.positions) {
            q = 0u;
            ++n;
        }
    }
    if (p.last == 0u) {
        for (uint l = 0; l < 8u; ++l) lanes[k * 8u + l] = sums[l];
        return;
    }
    precise double a = sums[0] + sums[1];
    precise double b = sums[2] + sums[3];
    precise double c = sums[4] + sums[5];
    precise double d = sums[6] + sums[7];
    precise double ab = a + b;
    precise double cd = c + d;
    precise double total = ab + cd;
    dbias[k] = narrow(total);
}
