#include "cpu/kernels/Conv2d.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/kernels/Checks.h"
#include "cpu/kernels/Gemm.h"
#include "cpu/kernels/Scratch.h"

namespace raven::cpu::kernels {

namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Output columns ow whose input column ow*strideW + offset lies inside [0, width).
struct ColumnRange {
    int64_t begin;
    int64_t end;
};
ColumnRange validColumns(const Conv2dShape& s, int64_t offset, int64_t outW) {
    const int64_t begin = std::min(outW, offset >= 0 ? 0 : ceilDiv(-offset, s.strideW));
    const int64_t last = s.width - 1 - offset;  // ow * strideW <= last
    const int64_t end = last < 0 ? begin : std::clamp(last / s.strideW + 1, begin, outW);
    return {begin, end};
}

// col is [C*kernelH*kernelW, outH*outW] for one sample: row (c, i, j) holds
// x[c, oh*strideH - padH + i*dilationH, ow*strideW - padW + j*dilationW], zero outside the input.
void im2col(const Conv2dShape& s, const float* x, float* col) {
    const int64_t outH = s.outH(), outW = s.outW(), positions = outH * outW;
    for (int64_t c = 0; c < s.inChannels; ++c) {
        const float* plane = x + c * s.height * s.width;
        for (int64_t i = 0; i < s.kernelH; ++i) {
            for (int64_t j = 0; j < s.kernelW; ++j) {
                float* row = col + ((c * s.kernelH + i) * s.kernelW + j) * positions;
                const int64_t offset = j * s.dilationW - s.padW;
                const ColumnRange cols = validColumns(s, offset, outW);
                for (int64_t oh = 0; oh < outH; ++oh) {
                    float* out = row + oh * outW;
                    const int64_t ih = oh * s.strideH - s.padH + i * s.dilationH;
                    if (ih < 0 || ih >= s.height) {
                        std::fill(out, out + outW, 0.0f);
                        continue;
                    }
                    const float* in = plane + ih * s.width + offset;
                    std::fill(out, out + cols.begin, 0.0f);
                    if (s.strideW == 1)
                        std::copy(in + cols.begin, in + cols.end, out + cols.begin);
                    else
                        for (int64_t ow = cols.begin; ow < cols.end; ++ow) out[ow] = in[ow * s.strideW];
                    std::fill(out + cols.end, out + outW, 0.0f);
                }
            }
        }
    }
}

// The adjoint of im2col: dx[c, ih, iw] += every col entry that was read from it, visited in the fixed
// order (c, i, j, oh, ow). dx must be zeroed first.
void col2im(const Conv2dShape& s, const float* col, float* dx) {
    const int64_t outH = s.outH(), outW = s.outW(), positions = outH * outW;
    for (int64_t c = 0; c < s.inChannels; ++c) {
        float* plane = dx + c * s.height * s.width;
        for (int64_t i = 0; i < s.kernelH; ++i) {
            for (int64_t j = 0; j < s.kernelW; ++j) {
                const float* row = col + ((c * s.kernelH + i) * s.kernelW + j) * positions;
                const int64_t offset = j * s.dilationW - s.padW;
                const ColumnRange cols = validColumns(s, offset, outW);
                for (int64_t oh = 0; oh < outH; ++oh) {
                    const int64_t ih = oh * s.strideH - s.padH + i * s.dilationH;
                    if (ih < 0 || ih >= s.height) continue;
                    const float* in = row + oh * outW;
                    float* out = plane + ih * s.width + offset;
                    for (int64_t ow = cols.begin; ow < cols.end; ++ow) out[ow * s.strideW] += in[ow];
                }
            }
        }
    }
}

// A 1x1 kernel with stride 1 and no padding reads the input as it is: col would be a copy of x.
bool isPointwise(const Conv2dShape& s) {
    return s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 && s.strideW == 1 && s.padH == 0 && s.padW == 0;
}

}  // namespace

int64_t conv2dWeightGradientChunk(int64_t batch) { return ceilDiv(batch, std::min<int64_t>(batch, 16)); }

void conv2d_forward(const Conv2dShape& s, const float* x, const float* weight, const float* bias, float* y,
                    const ParallelFor& parallel, SgemmFn gemm) {
    s.validate();
    const int64_t groups = s.groups, kPerGroup = s.outChannels / groups;
    const int64_t colRows = s.inChannels / groups * s.kernelH * s.kernelW;  // per group
    const int64_t positions = s.outH() * s.outW(), inSize = s.inChannels * s.height * s.width;
    const bool pointwise = isPointwise(s);

    forEachItem(parallel, s.batch, [&](int64_t begin, int64_t end) {
        float* colBuffer = pointwise ? nullptr : scratch(ScratchSlot::Columns, colRows * groups * positions);
        for (int64_t n = begin; n < end; ++n) {
            const float* col = x + n * inSize;
            if (!pointwise) {
                im2col(s, col, colBuffer);
                col = colBuffer;
            }
            for (int64_t g = 0; g < groups; ++g) {
                float* out = y + (n * s.outChannels + g * kPerGroup) * positions;
                if (bias)
                    for (int64_t k = 0; k < kPerGroup; ++k)
                        std::fill(out + k * positions, out + (k + 1) * positions, bias[g * kPerGroup + k]);
                // out [kPerGroup, positions] (+)= weight [kPerGroup, colRows] col [colRows, positions]
                gemm(kPerGroup, positions, colRows, weight + g * kPerGroup * colRows, colRows, false,
                      col + g * colRows * positions, positions, false, bias ? 1.0f : 0.0f, out, positions);
            }
        }
    });
}

void conv2d_backward(const Conv2dShape& s, const float* x, const float* weight, const float* dy, float* dx,
                     float* dweight, float* dbias, const ParallelFor& parallel, SgemmFn gemm) {
    s.validate();
    const int64_t groups = s.groups, kPerGroup = s.outChannels / groups;
    const int64_t colRows = s.inChannels / groups * s.kernelH * s.kernelW;
    const int64_t positions = s.outH() * s.outW(), inSize = s.inChannels * s.height * s.width;
    const int64_t outSize = s.outChannels * positions, weightSize = s.outChannels * colRows;
    const bool pointwise = isPointwise(s);

    if (dbias) {
        forEachItem(parallel, s.outChannels, [&](int64_t begin, int64_t end) {
            for (int64_t k = begin; k < end; ++k) {
                // Eight interleaved double lanes (position p goes to lane p % 8), combined pairwise at
                // the end: a fixed order that the compiler can vectorise, unlike one running sum.
                double lanes[8] = {};
                for (int64_t n = 0; n < s.batch; ++n) {
                    const float* row = dy + n * outSize + k * positions;
                    int64_t p = 0;
                    for (; p + 8 <= positions; p += 8)
                        for (int l = 0; l < 8; ++l) lanes[l] += static_cast<double>(row[p + l]);
                    for (int l = 0; p < positions; ++p, ++l) lanes[l] += static_cast<double>(row[p]);
                }
                dbias[k] = static_cast<float>(((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
                                              ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7])));
            }
        });
    }
    if (!dx && !dweight) return;

    const int64_t chunk = conv2dWeightGradientChunk(s.batch), chunks = ceilDiv(s.batch, chunk);
    // Chunk 0 sums into dweight itself, chunk c > 0 into partials[c - 1]; they are added in order below.
    // (the caller's thread's scratch: the workers write disjoint parts of it)
    float* partials = dweight && chunks > 1 ? scratch(ScratchSlot::Partials, (chunks - 1) * weightSize) : nullptr;

    forEachItem(parallel, chunks, [&](int64_t begin, int64_t end) {
        const int64_t colSize = colRows * groups * positions;
        float* colBuffer = pointwise || !dweight ? nullptr : scratch(ScratchSlot::Columns, colSize);
        float* dcolBuffer = pointwise || !dx ? nullptr : scratch(ScratchSlot::ColumnGradients, colSize);
        for (int64_t c = begin; c < end; ++c) {
            float* sums = dweight ? (c == 0 ? dweight : partials + (c - 1) * weightSize) : nullptr;
            for (int64_t n = c * chunk; n < std::min(s.batch, (c + 1) * chunk); ++n) {
                const float* dyn = dy + n * outSize;
                if (dweight) {
                    const float* col = x + n * inSize;
                    if (!pointwise) {
                        im2col(s, col, colBuffer);
                        col = colBuffer;
                    }
                    // dw [kPerGroup, colRows] (+)= dy [kPerGroup, positions] col^T [positions, colRows]
                    for (int64_t g = 0; g < groups; ++g)
                        gemm(kPerGroup, colRows, positions, dyn + g * kPerGroup * positions, positions, false,
                              col + g * colRows * positions, positions, true, n == c * chunk ? 0.0f : 1.0f,
                              sums + g * kPerGroup * colRows, colRows);
                }
                if (dx) {
                    float* dcol = pointwise ? dx + n * inSize : dcolBuffer;
                    // dcol [colRows, positions] = weight^T [colRows, kPerGroup] dy [kPerGroup, positions]
                    for (int64_t g = 0; g < groups; ++g)
                        gemm(colRows, positions, kPerGroup, weight + g * kPerGroup * colRows, colRows, true,
                              dyn + g * kPerGroup * positions, positions, false, 0.0f, dcol + g * colRows * positions,
                              positions);
                    if (!pointwise) {
                        std::fill(dx + n * inSize, dx + (n + 1) * inSize, 0.0f);
                        col2im(s, dcol, dx + n * inSize);
                    }
                }
            }
        }
    });

    if (dweight)
        for (int64_t c = 1; c < chunks; ++c) {
            const float* part = partials + (c - 1) * weightSize;
            for (int64_t i = 0; i < weightSize; ++i) dweight[i] += part[i];
        }
}

}  // namespace raven::cpu::kernels
