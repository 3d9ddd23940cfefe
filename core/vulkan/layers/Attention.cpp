#include "vulkan/layers/Attention.h"

#include "vulkan/Device.h"
#include "vulkan/Recorder.h"
#include "vulkan/layers/BatchedMatmul.h"
#include "vulkan/layers/LayerSupport.h"

namespace raven::vulkan::layers {
namespace {

using cpu::kernels::AttentionShape;

struct Dims {
    std::uint64_t bh, tq, tk, d, dv;
    std::uint64_t q() const { return bh * tq * d; }
    std::uint64_t k() const { return bh * tk * d; }
    std::uint64_t v() const { return bh * tk * dv; }
    std::uint64_t out() const { return bh * tq * dv; }
    std::uint64_t probs() const { return bh * tq * tk; }
};

Dims dimsOf(const AttentionShape& s) {
    return {static_cast<std::uint64_t>(s.batch * s.heads), static_cast<std::uint64_t>(s.queryLength),
            static_cast<std::uint64_t>(s.keyLength), static_cast<std::uint64_t>(s.headDim),
            static_cast<std::uint64_t>(s.valueDim)};
}

// A row-major [rows, cols] matrix per batch, as operand A(b, m, k) or B(b, k, n), plain or transposed.
struct Operand {
    std::uint64_t batch, row, col;
};
Operand plain(std::uint64_t rows, std::uint64_t cols) { return {rows * cols, cols, 1}; }
Operand transposed(std::uint64_t rows, std::uint64_t cols) { return {rows * cols, 1, cols}; }

void matmul(Device& device, Recorder& recorder, std::uint64_t batches, std::uint64_t m, std::uint64_t n,
            std::uint64_t k, Operand a, Operand b, float alpha, const BufferRange& ra, const BufferRange& rb,
            const BufferRange& rc) {
    batchedMatmul(device, recorder, {batches, m, n, k, a.batch, a.row, a.col, b.batch, b.row, b.col, alpha}, ra, rb,
                  rc);
}

}  // namespace

void attentionForward(Device& device, Recorder& recorder, const AttentionShape& shape, const BufferRange& q,
                      const BufferRange& k, const BufferRange& v, const BufferRange& out, const BufferRange& probs) {
    shape.validate();
    const Dims d = dimsOf(shape);
    requireFloats("attention", "q", q, d.q());
    requireFloats("attention", "k", k, d.k());
    requireFloats("attention", "v", v, d.v());
    requireFloats("attention", "out", out, d.out());
    requireFloats("attention", "probs", probs, d.probs());
    // scores = scale * q k^T, into probs; then the softmax in place; then out = probs v.
    matmul(device, recorder, d.bh, d.tq, d.tk, d.d, plain(d.tq, d.d), transposed(d.tk, d.d), shape.effectiveScale(), q,
           k, probs);
    struct {
        std::uint32_t rows, queryLength, keyLength, causal;
    } params{static_cast<std::uint32_t>(d.bh * d.tq), u32(shape.queryLength), u32(shape.keyLength),
             shape.causal ? 1u : 0u};
    const Pipeline& softmax =
        device.pipelines().get({"layer_attention_softmax", 1, sizeof params, {reductionWorkgroupSize(device)}});
    recorder.dispatch(softmax, {{probs, Access::ReadWrite}}, params, Groups{params.rows, 1, 1});
    matmul(device, recorder, d.bh, d.tq, d.dv, d.tk, plain(d.tq, d.tk), plain(d.tk, d.dv), 1.0f, probs, v, out);
}

std::uint64_t attentionBackwardScratchFloats(const AttentionShape& shape) { return dimsOf(shape).probs(); }

void attentionBackward(Device& device, Recorder& recorder, const AttentionShape& shape, const BufferRange& q,
                       const BufferRange& k, const BufferRange& v, const BufferRange& probs, const BufferRange& dout,
                       const BufferRange& dq, const BufferRange& dk, const BufferRange& dv,
                       const BufferRange& scratch) {
    shape.validate();
    const Dims d = dimsOf(shape);
    requireFloats("attention backward", "probs", probs, d.probs());
    requireFloats("attention backward", "dout", dout, d.out());
    if (present(dv)) {
        requireFloats("attention backward", "dv", dv, d.v());
        matmul(device, recorder, d.bh, d.tk, d.dv, d.tq, transposed(d.tq, d.tk), plain(d.tq, d.dv), 1.0f, probs, dout,
               dv);
    }
    if (!present(dq) && !present(dk)) return;
    requireFloats("attention backward", "v", v, d.v());
    requireFloats("attention backward", "scratch", scratch, d.probs());
    // dP = dout v^T into scratch, then dS in place.
    matmul(device, recorder, d.bh, d.tq, d.tk, d.dv, plain(d.tq, d.dv), transposed(d.tk, d.dv), 1.0f, dout, v, scratch);
    struct {
        std::uint32_t rows, keyLength;
        float scale;
    } params{static_cast<std::uint32_t>(d.bh * d.tq), u32(shape.keyLength), shape.effectiveScale()};
    const Pipeline& softmaxBackward = device.pipelines().get(
        {"layer_attention_softmax_backward", 2, sizeof params, {reductionWorkgroupSize(device)}});
    recorder.dispatch(softmaxBackward, {{probs, Access::Read}, {scratch, Access::ReadWrite}}, params,
                      Groups{params.rows, 1, 1});
    if (present(dq)) {
        requireFloats("attention backward", "k", k, d.k());
        requireFloats("attention backward", "dq", dq, d.q());
        matmul(device, recorder, d.bh, d.tq, d.d, d.tk, plain(d.tq, d.tk), plain(d.tk, d.d), 1.0f, scratch, k, dq);
    }
    if (present(dk)) {
        requireFloats("attention backward", "q", q, d.q());
        requireFloats("attention backward", "dk", dk, d.k());
        matmul(device, recorder, d.bh, d.tk, d.d, d.tq, transposed(d.tq, d.tk), plain(d.tq, d.d), 1.0f, scratch, q, dk);
    }
}

}  // namespace raven::vulkan::layers
