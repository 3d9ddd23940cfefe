#include "cpu/kernels/Pool2d.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "cpu/kernels/Checks.h"
#include "cpu/kernels/VerifiableMath.h"

namespace raven::cpu::kernels {


namespace {

// The window of output (oh, ow): rows [h0, h1) and columns [w0, w1), clipped to the input, and the
// size of the window clipped to the padded input only (the divisor with count_include_pad).
struct Window {
    int64_t h0, h1, w0, w1, paddedSize;
};
Window window(const Pool2dShape& s, int64_t oh, int64_t ow) {
    int64_t h0 = oh * s.strideH - s.padH, w0 = ow * s.strideW - s.padW;
    int64_t h1 = std::min(h0 + s.kernelH, s.height + s.padH), w1 = std::min(w0 + s.kernelW, s.width + s.padW);
    const int64_t paddedSize = (h1 - h0) * (w1 - w0);
    h0 = std::max<int64_t>(h0, 0);
    w0 = std::max<int64_t>(w0, 0);
    h1 = std::min(h1, s.height);
    w1 = std::min(w1, s.width);
    return {h0, h1, w0, w1, paddedSize};
}

float divisor(const Window& w, bool countIncludePad) {
    return static_cast<float>(countIncludePad ? w.paddedSize : (w.h1 - w.h0) * (w.w1 - w.w0));
}

// The largest input in the window (the first NaN, if any, as PyTorch), and where it is in the plane.
float windowMax(const float* plane, int64_t width, const Window& w, int64_t& index) {
    float best = -std::numeric_limits<float>::infinity();
    index = w.h0 * width + w.w0;
    for (int64_t ih = w.h0; ih < w.h1; ++ih)
        for (int64_t iw = w.w0; iw < w.w1; ++iw) {
            const float v = plane[ih * width + iw];
            if (std::isnan(v)) {
                index = ih * width + iw;
                return v;
            }
            if (v > best) {
                best = v;
                index = ih * width + iw;
            }
        }
    return best;
}

// windowMax for a window wholly inside the plane, starting at `first`: the same visiting order.
inline float insideWindowMax(const float* plane, int64_t first, int64_t width, int64_t kernelH, int64_t kernelW,
                             int64_t& index) {
    float best = -std::numeric_limits<float>::infinity();
    index = first;
    for (int64_t i = 0; i < kernelH; ++i) {
        const int64_t row = first + i * width;
        for (int64_t j = 0; j < kernelW; ++j) {
            const float v = plane[row + j];
            if (std::isnan(v)) {
                index = row + j;
                return v;
            }
            if (v > best) {
                best = v;
                index = row + j;
            }
        }
    }
    return best;
}

// A window's sum over its divisor: the verifiable mode's shared division, or the CPU's own.
float poolQuotient(float sum, float divisor, bool verifiable) {
    return verifiable ? raven::verifiable::vDiv(sum, divisor) : sum / divisor;
}

}  // namespace

void max_pool2d_forward(const Pool2dShape& s, const float* x, float* y, int64_t* argmax, const ParallelFor& parallel) {
    s.validate();
    const int64_t outH = s.outH(), outW = s.outW(), inPlane = s.height * s.width, outPlane = outH * outW;
    // Without padding every window lies inside the plane: no clipping, and the window's rows are
    // walked from a pointer (the common CNN case, 2x2 windows with stride 2). Same order, same result.
    const bool inside = s.padH == 0 && s.padW == 0;
    forEachItem(parallel, s.batch * s.channels, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
            const float* in = x + p * inPlane;
            float* yp = y + p * outPlane;
            int64_t* ap = argmax + p * outPlane;
            if (inside && s.kernelH == 2 && s.kernelW == 2) {
                for (int64_t oh = 0; oh < outH; ++oh) {
                    const int64_t top = oh * s.strideH * s.width;
                    for (int64_t ow = 0; ow < outW; ++ow) {
                        // Without branches: the first maximum in the order (0,0) (0,1) (1,0) (1,1); a
                        // window holding a NaN takes the general path, where the first NaN wins.
                        const int64_t i0 = top + ow * s.strideW, i2 = i0 + s.width;
                        const float a = in[i0], b = in[i0 + 1], c = in[i2], d = in[i2 + 1];
                        if (std::isnan(a) || std::isnan(b) || std::isnan(c) || std::isnan(d)) {
                            int64_t bestIndex = 0;
                            yp[oh * outW + ow] = insideWindowMax(in, i0, s.width, 2, 2, bestIndex);
                            ap[oh * outW + ow] = bestIndex;
                            continue;
                        }
                        const float m1 = b > a ? b : a;
                        const int64_t j1 = b > a ? i0 + 1 : i0;
                        const float m2 = c > m1 ? c : m1;
                        const int64_t j2 = c > m1 ? i2 : j1;
                        yp[oh * outW + ow] = d > m2 ? d : m2;
                        ap[oh * outW + ow] = d > m2 ? i2 + 1 : j2;
                    }
                }
                continue;
            }
            if (inside) {
                for (int64_t oh = 0; oh < outH; ++oh)
                    for (int64_t ow = 0; ow < outW; ++ow) {
                        int64_t bestIndex = 0;
                        yp[oh * outW + ow] = insideWindowMax(in, oh * s.strideH * s.width + ow * s.strideW, s.width,
                                                             s.kernelH, s.kernelW, bestIndex);
                        ap[oh * outW + ow] = bestIndex;
                    }
                continue;
            }
            for (int64_t oh = 0; oh < outH; ++oh)
                for (int64_t ow = 0; ow < outW; ++ow) {
                    const Window w = window(s, oh, ow);
                    int64_t bestIndex = 0;
                    yp[oh * outW + ow] = windowMax(in, s.width, w, bestIndex);
                    ap[oh * outW + ow] = bestIndex;
                }
        }
    });
}

void max_pool2d_backward(const Pool2dShape& s, const int64_t* argmax, const float* dy, float* dx,
                         const ParallelFor& parallel) {
    s.validate();
    const int64_t inPlane = s.height * s.width, outPlane = s.outH() * s.outW();
    forEachItem(parallel, s.batch * s.channels, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
            float* out = dx + p * inPlane;
            std::fill(out, out + inPlane, 0.0f);
            for (int64_t o = 0; o < outPlane; ++o) out[argmax[p * outPlane + o]] += dy[p * outPlane + o];
        }
    });
}

void avg_pool2d_forward(const Pool2dShape& s, const float* x, float* y, bool countIncludePad,
                        const ParallelFor& parallel, bool verifiable) {
    s.validate();
    const int64_t outH = s.outH(), outW = s.outW(), inPlane = s.height * s.width, outPlane = outH * outW;
    forEachItem(parallel, s.batch * s.channels, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
            const float* in = x + p * inPlane;
            for (int64_t oh = 0; oh < outH; ++oh)
                for (int64_t ow = 0; ow < outW; ++ow) {
                    const Window w = window(s, oh, ow);
                    float sum = 0.0f;
                    for (int64_t ih = w.h0; ih < w.h1; ++ih)
                        for (int64_t iw = w.w0; iw < w.w1; ++iw) sum += in[ih * s.width + iw];
                    y[p * outPlane + oh * outW + ow] = poolQuotient(sum, divisor(w, countIncludePad), verifiable);
                }
        }
    });
}

void avg_pool2d_backward(const Pool2dShape& s, const float* dy, float* dx, bool countIncludePad,
                         const ParallelFor& parallel, bool verifiable) {
    s.validate();
    const int64_t outH = s.outH(), outW = s.outW(), inPlane = s.height * s.width, outPlane = outH * outW;
    forEachItem(parallel, s.batch * s.channels, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
            float* out = dx + p * inPlane;
            std::fill(out, out + inPlane, 0.0f);
            for (int64_t oh = 0; oh < outH; ++oh)
                for (int64_t ow = 0; ow < outW; ++ow) {
                    const Window w = window(s, oh, ow);
                    const float g =
                        poolQuotient(dy[p * outPlane + oh * outW + ow], divisor(w, countIncludePad), verifiable);
                    for (int64_t ih = w.h0; ih < w.h1; ++ih)
                        for (int64_t iw = w.w0; iw < w.w1; ++iw) out[ih * s.width + iw] += g;
                }
        }
    });
}

}  // namespace raven::cpu::kernels
