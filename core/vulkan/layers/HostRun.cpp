#include "vulkan/layers/HostRun.h"

#include "base/Error.h"
#include "vulkan/Device.h"
#include "vulkan/layers/LayerSupport.h"
#include "vulkan/layers/Layers.h"

#include <cmath>
#include <string>

namespace raven::vulkan::layers {

HostRun::HostRun(Device& device) : device_(device), recorder_(device) {}

BufferRange HostRun::input(std::span<const float> data) {
    if (data.empty()) return {};
    buffers_.push_back(device_.createBuffer(data.size_bytes()));
    recorder_.upload(buffers_.back().range(), data);
    return buffers_.back().range();
}

BufferRange HostRun::output(std::size_t count, std::vector<float>& out, bool wanted) {
    out.clear();
    if (count == 0 || !wanted) return {};
    buffers_.push_back(device_.createBuffer(count * sizeof(float)));
    out.resize(count);
    outputs_.emplace_back(buffers_.back().range(), &out);
    return buffers_.back().range();
}

BufferRange HostRun::inout(std::vector<float>& data) {
    const BufferRange range = input(data);
    if (present(range)) outputs_.emplace_back(range, &data);
    return range;
}

BufferRange HostRun::scratch(std::size_t count) {
    if (count == 0) return {};
    buffers_.push_back(device_.createBuffer(count * sizeof(float)));
    return buffers_.back().range();
}

void HostRun::run() {
    for (auto& [range, out] : outputs_) recorder_.download(range, std::span<float>(*out));
    recorder_.submit();
    outputs_.clear();
}

namespace host {
namespace {

std::size_t sz(std::int64_t value) { return static_cast<std::size_t>(value); }

}  // namespace

std::vector<float> conv2dForward(Device& device, const cpu::kernels::Conv2dShape& s, F x, F weight, F bias) {
    s.validate();
    HostRun run(device);
    std::vector<float> y;
    layers::conv2dForward(device, run.recorder(), s, run.input(x), run.input(weight), run.input(bias),
                          run.output(sz(s.batch * s.outChannels * s.outH() * s.outW()), y));
    run.run();
    return y;
}

LayerGradients conv2dBackward(Device& device, const cpu::kernels::Conv2dShape& s, F x, F weight, F dy, Wanted wanted) {
    s.validate();
    HostRun run(device);
    LayerGradients g;
    const BufferRange dx = run.output(sz(s.batch * s.inChannels * s.height * s.width), g.input, wanted[0]);
    const BufferRange dw =
        run.output(sz(s.outChannels * (s.inChannels / s.groups) * s.kernelH * s.kernelW), g.weight, wanted[1]);
    const BufferRange db = run.output(sz(s.outChannels), g.bias, wanted[2]);
    const std::uint64_t scratchFloats = wanted[1] ? layers::conv2dBackwardScratchFloats(s) : 0;
    const BufferRange scratch =
        scratchFloats > 0 ? run.scratch(static_cast<std::size_t>(scratchFloats)) : BufferRange{};
    layers::conv2dBackward(device, run.recorder(), s, run.input(x), run.input(weight), run.input(dy), dx, dw, db,
                           scratch);
    run.run();
    return g;
}

MaxPoolOutput maxPool2dForward(Device& device, const cpu::kernels::Pool2dShape& s, F x) {
    s.validate();
    HostRun run(device);
    MaxPoolOutput o;
    const std::size_t n = sz(s.batch * s.channels * s.outH() * s.outW());
    const BufferRange in = run.input(x);
    layers::maxPool2dForward(device, run.recorder(), s, in, run.output(n, o.y), run.output(n, o.argmax));
    run.run();
    return o;
}

std::vector<float> maxPool2dBackward(Device& device, const cpu::kernels::Pool2dShape& s, F argmax, F dy) {
    s.validate();
    HostRun run(device);
    std::vector<float> dx;
    const BufferRange a = run.input(argmax), g = run.input(dy);
    layers::maxPool2dBackward(device, run.recorder(), s, a, g,
                              run.output(sz(s.batch * s.channels * s.height * s.width), dx));
    run.run();
    return dx;
}

std::vector<float> avgPool2dForward(Device& device, const cpu::kernels::Pool2dShape& s, F x, bool countIncludePad) {
    s.validate();
    HostRun run(device);
    std::vector<float> y;
    const BufferRange in = run.input(x);
    layers::avgPool2dForward(device, run.recorder(), s, in,
                             run.output(sz(s.batch * s.channels * s.outH() * s.outW()), y), countIncludePad);
    run.run();
    return y;
}

std::vector<float> avgPool2dBackward(Device& device, const cpu::kernels::Pool2dShape& s, F dy, bool countIncludePad) {
    s.validate();
    HostRun run(device);
    std::vector<float> dx;
    const BufferRange g = run.input(dy);
    layers::avgPool2dBackward(device, run.recorder(), s, g,
                              run.output(sz(s.batch * s.channels * s.height * s.width), dx), countIncludePad);
    run.run();
    return dx;
}

NormOutput layerNormForward(Device& device, const cpu::kernels::LayerNormShape& s, F x, F weight, F bias) {
    s.validate();
    HostRun run(device);
    NormOutput o;
    const BufferRange in = run.input(x), w = run.input(weight), b = run.input(bias);
    const BufferRange y = run.output(sz(s.rows * s.features), o.y);
    const BufferRange mean = run.output(sz(s.rows), o.mean), rstd = run.output(sz(s.rows), o.invstd);
    layers::layerNormForward(device, run.recorder(), s, in, w, b, y, mean, rstd);
    run.run();
    return o;
}

LayerGradients layerNormBackward(Device& device, const cpu::kernels::LayerNormShape& s, F x, F weight, F mean, F rstd,
                                 F dy, Wanted wanted) {
    s.validate();
    HostRun run(device);
    LayerGradients g;
    const BufferRange in = run.input(x), w = run.input(weight), m = run.input(mean), r = run.input(rstd),
                      grad = run.input(dy);
    const BufferRange dx = run.output(sz(s.rows * s.features), g.input, wanted[0]);
    const BufferRange dw = run.output(sz(s.features), g.weight, wanted[1]);
    const BufferRange db = run.output(sz(s.features), g.bias, wanted[2]);
    layers::layerNormBackward(device, run.recorder(), s, in, w, m, r, grad, dx, dw, db);
    run.run();
    return g;
}

NormOutput batchNormForward(Device& device, const cpu::kernels::BatchNormShape& s, bool training, F x, F weight, F bias,
                            std::vector<float>& runningMean, std::vector<float>& runningVar) {
    s.validate(training);
    HostRun run(device);
    NormOutput o;
    const BufferRange in = run.input(x), w = run.input(weight), b = run.input(bias);
    const BufferRange rm = training ? run.inout(runningMean) : run.input(runningMean);
    const BufferRange rv = training ? run.inout(runningVar) : run.input(runningVar);
    const BufferRange y = run.output(sz(s.batch * s.channels * s.spatial), o.y);
    const BufferRange mean = run.output(sz(s.channels), o.mean), invstd = run.output(sz(s.channels), o.invstd);
    layers::batchNormForward(device, run.recorder(), s, training, in, w, b, rm, rv, y, mean, invstd);
    run.run();
    return o;
}

LayerGradients batchNormBackward(Device& device, const cpu::kernels::BatchNormShape& s, bool training, F x, F weight,
                                 F savedMean, F savedInvstd, F dy, Wanted wanted) {
    s.validate(training);
    HostRun run(device);
    LayerGradients g;
    const BufferRange in = run.input(x), w = run.input(weight), m = run.input(savedMean), inv = run.input(savedInvstd),
                      grad = run.input(dy);
    const BufferRange dx = run.output(sz(s.batch * s.channels * s.spatial), g.input, wanted[0]);
    const BufferRange dw = run.output(sz(s.channels), g.weight, wanted[1]);
    const BufferRange db = run.output(sz(s.channels), g.bias, wanted[2]);
    layers::batchNormBackward(device, run.recorder(), s, training, in, w, m, inv, grad, dx, dw, db);
    run.run();
    return g;
}

namespace {

void checkIndices(const cpu::kernels::EmbeddingShape& s, F indices) {
    RAVEN_CHECK(indices.size() == sz(s.count),
                "embedding: " + std::to_string(indices.size()) + " indices for a count of " + std::to_string(s.count),
                "pass one index per position");
    for (std::size_t i = 0; i < indices.size(); ++i) {
        const float index = indices[i];
        RAVEN_CHECK(index >= 0.0f && index < static_cast<float>(s.vocabulary) && index == std::floor(index),
                    "embedding: index " + std::to_string(index) + " at position " + std::to_string(i) +
                        " is not an integer in the vocabulary of " + std::to_string(s.vocabulary) + " entries",
                    "token ids must lie in 0.." + std::to_string(s.vocabulary - 1));
    }
}

}  // namespace

std::vector<float> embeddingForward(Device& device, const cpu::kernels::EmbeddingShape& s, F indices, F weight) {
    s.validate();
    checkIndices(s, indices);
    HostRun run(device);
    std::vector<float> y;
    const BufferRange idx = run.input(indices), w = run.input(weight);
    layers::embeddingForward(device, run.recorder(), s, idx, w, run.output(sz(s.count * s.dim), y));
    run.run();
    return y;
}

std::vector<float> embeddingBackward(Device& device, const cpu::kernels::EmbeddingShape& s, F indices, F dy) {
    s.validate();
    checkIndices(s, indices);
    HostRun run(device);
    std::vector<float> dw;
    const BufferRange idx = run.input(indices), grad = run.input(dy);
    layers::embeddingBackward(device, run.recorder(), s, idx, grad, run.output(sz(s.vocabulary * s.dim), dw));
    run.run();
    return dw;
}

std::vector<float> dropoutForward(Device& device, const cpu::kernels::DropoutShape& s, F x) {
    s.validate();
    HostRun run(device);
    std::vector<float> y;
    const BufferRange in = run.input(x);
    layers::dropoutForward(device, run.recorder(), s, in, run.output(sz(s.count), y));
    run.run();
    return y;
}

std::vector<float> dropoutBackward(Device& device, const cpu::kernels::DropoutShape& s, F dy) {
    s.validate();
    HostRun run(device);
    std::vector<float> dx;
    const BufferRange in = run.input(dy);
    layers::dropoutBackward(device, run.recorder(), s, in, run.output(sz(s.count), dx));
    run.run();
    return dx;
}

AttentionOutput attentionForward(Device& device, const cpu::kernels::AttentionShape& s, F q, F k, F v) {
    s.validate();
    HostRun run(device);
    AttentionOutput o;
    const BufferRange rq = run.input(q), rk = run.input(k), rv = run.input(v);
    const std::int64_t bh = s.batch * s.heads;
    const BufferRange out = run.output(sz(bh * s.queryLength * s.valueDim), o.out);
    const BufferRange probs = run.output(sz(bh * s.queryLength * s.keyLength), o.probs);
    layers::attentionForward(device, run.recorder(), s, rq, rk, rv, out, probs);
    run.run();
    return o;
}

AttentionGradients attentionBackward(Device& device, const cpu::kernels::AttentionShape& s, F q, F k, F v, F probs,
                                     F dout, Wanted wanted) {
    s.validate();
    HostRun run(device);
    AttentionGradients g;
    const BufferRange rq = run.input(q), rk = run.input(k), rv = run.input(v), p = run.input(probs),
                      grad = run.input(dout);
    const std::int64_t bh = s.batch * s.heads;
    const BufferRange dq = run.output(sz(bh * s.queryLength * s.headDim), g.query, wanted[0]);
    const BufferRange dk = run.output(sz(bh * s.keyLength * s.headDim), g.key, wanted[1]);
    const BufferRange dv = run.output(sz(bh * s.keyLength * s.valueDim), g.value, wanted[2]);
    const BufferRange scratch = (wanted[0] || wanted[1])
                                    ? run.scratch(sz(static_cast<std::int64_t>(attentionBackwardScratchFloats(s))))
                                    : BufferRange{};
    layers::attentionBackward(device, run.recorder(), s, rq, rk, rv, p, grad, dq, dk, dv, scratch);
    run.run();
    return g;
}

}  // namespace host
}  // namespace raven::vulkan::layers
