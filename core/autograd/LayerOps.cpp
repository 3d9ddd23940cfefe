// The layer ops on Variables: shape checks that name the op and the shapes, one backend kernel for the
// value, one backward kernel for the gradients (see LayerOps.h and the layer kernels of Backend.h).
#include "autograd/LayerOps.h"

#include <algorithm>
#include <string>

#include "base/Error.h"
#include "tensor/TensorOps.h"

namespace raven {

namespace {

using Grads = std::vector<Tensor>;

std::string str(int64_t v) { return std::to_string(v); }

// Appended piece by piece: `"(" + std::string` trips GCC 12's false -Wrestrict at -O3 (bug 105329).
std::string pairToString(Size2d s) {
    std::string out = "(";
    out.append(str(s.h)).append(", ").append(str(s.w)).append(")");
    return out;
}

const Tensor& tensorOrNone(const Variable& v) {
    static const Tensor none;
    return v.defined() ? v.tensor() : none;
}

Backend& backendOf(const char* op, std::initializer_list<const Variable*> vars) {
    std::vector<const Tensor*> tensors;
    for (const Variable* v : vars)
        if (v->defined()) tensors.push_back(&v->tensor());
    return commonBackend(tensors, op);
}

void requireRank(const char* op, const char* what, const Shape& shape, int64_t rank, const char* layout) {
    RAVEN_CHECK(static_cast<int64_t>(shape.size()) == rank,
                std::string(op) + ": " + what + " " + shapeToString(shape) + " has rank " + str(shape.size()) +
                    ", expected " + str(rank) + " " + layout,
                std::string("give ") + what + " as " + layout);
}

// An optional per-channel (or per-feature) parameter: undefined, or exactly `expected`.
void requireOptionalShape(const char* op, const char* what, const Tensor& t, const Shape& expected) {
    if (!t.defined()) return;
    RAVEN_CHECK(
        t.shape() == expected,
        std::string(op) + ": " + what + " " + shapeToString(t.shape()) + " should be " + shapeToString(expected),
        std::string("give ") + what + " of shape " + shapeToString(expected) + ", or none");
}

GradsWanted wantedOf(const std::vector<bool>& needs) {
    return {needs.size() > 0 && needs[0], needs.size() > 1 && needs[1], needs.size() > 2 && needs[2]};
}

// --- pooling helpers ---

Pool2dWindow poolWindow(const char* op, const Shape& x, Size2d kernel, Size2d stride, Size2d padding) {
    requireRank(op, "input", x, 4, "[N, C, H, W]");
    if (stride.h == 0 && stride.w == 0) stride = kernel;
    RAVEN_CHECK(kernel.h >= 1 && kernel.w >= 1,
                std::string(op) + ": kernel " + pairToString(kernel) + " is not positive",
                "give a kernel of at least 1x1");
    RAVEN_CHECK(stride.h >= 1 && stride.w >= 1,
                std::string(op) + ": stride " + pairToString(stride) + " is not positive",
                "give a positive stride, or 0 for the kernel size");
    RAVEN_CHECK(padding.h >= 0 && padding.w >= 0 && 2 * padding.h <= kernel.h && 2 * padding.w <= kernel.w,
                std::string(op) + ": padding " + pairToString(padding) + " must lie in [0, kernel / 2] for kernel " +
                    pairToString(kernel),
                "use padding of at most half the kernel, as PyTorch requires");
    const Pool2dWindow w{kernel.h, kernel.w, stride.h, stride.w, padding.h, padding.w};
    RAVEN_CHECK(x[0] >= 1 && x[1] >= 1 && x[2] + 2 * w.padH >= w.kernelH && x[3] + 2 * w.padW >= w.kernelW,
                std::string(op) + ": kernel " + pairToString(kernel) + " does not fit the padded input " +
                    shapeToString(x) + " (padding " + pairToString(padding) + ")",
                "use a smaller kernel or more padding, and a non-empty batch");
    return w;
}

Shape poolOutputShape(const Shape& x, const Pool2dWindow& w) {
    return {x[0], x[1], (x[2] + 2 * w.padH - w.kernelH) / w.strideH + 1,
            (x[3] + 2 * w.padW - w.kernelW) / w.strideW + 1};
}

// --- attention helpers ---

// Whether a and b (of equal rank) agree on every dimension but the last two.
bool equalLeading(const Shape& a, const Shape& b) { return std::equal(a.begin(), a.end() - 2, b.begin()); }

// Leading dimensions of q, k, v folded into one batch axis: [B, 1, T, D].
Tensor asAttention4d(const Tensor& t) {
    if (t.dim() == 4) return t;
    return t.reshape({-1, 1, t.size(-2), t.size(-1)});
}

}  // namespace

Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias, const Conv2dOptions& options) {
    const char* op = "conv2d";
    Backend& backend = backendOf(op, {&x, &weight, &bias});
    requireRank(op, "input", x.shape(), 4, "[N, C, H, W]");
    requireRank(op, "weight", weight.shape(), 4, "[out channels, in channels / groups, kH, kW]");
    const Shape& xs = x.shape();
    const Shape& ws = weight.shape();
    const int64_t groups = options.groups;
    RAVEN_CHECK(groups >= 1 && ws[0] % groups == 0,
                std::string(op) + ": " + str(groups) + " groups do not divide the " + str(ws[0]) +
                    " output channels of weight " + shapeToString(ws),
                "choose groups that divide both channel counts");
    RAVEN_CHECK(xs[1] == ws[1] * groups,
                std::string(op) + ": input " + shapeToString(xs) + " has " + str(xs[1]) + " channels, weight " +
                    shapeToString(ws) + " with " + str(groups) + " group(s) expects " + str(ws[1] * groups),
                "the weight's second dimension is in channels / groups");
    requireOptionalShape(op, "bias", tensorOrNone(bias), {ws[0]});
    const Conv2dOptions& o = options;
    RAVEN_CHECK(o.stride.h >= 1 && o.stride.w >= 1 && o.dilation.h >= 1 && o.dilation.w >= 1 && o.padding.h >= 0 &&
                    o.padding.w >= 0,
                std::string(op) + ": stride " + pairToString(o.stride) + ", dilation " + pairToString(o.dilation) +
                    " must be positive and padding " + pairToString(o.padding) + " not negative",
                "check the convolution options");
    const Conv2dGeometry g{o.stride.h, o.stride.w, o.padding.h, o.padding.w, o.dilation.h, o.dilation.w, groups};
    const int64_t spanH = g.dilationH * (ws[2] - 1) + 1, spanW = g.dilationW * (ws[3] - 1) + 1;
    RAVEN_CHECK(xs[0] >= 1 && xs[2] + 2 * g.padH >= spanH && xs[3] + 2 * g.padW >= spanW && ws[0] >= 1 && ws[1] >= 1,
                std::string(op) + ": kernel " + str(spanH) + "x" + str(spanW) + " (with dilation) of weight " +
                    shapeToString(ws) + " does not fit the padded input " + shapeToString(xs),
                "use a smaller kernel or dilation, more padding, and a non-empty batch");

    const Tensor out = backend.conv2d(x.tensor(), weight.tensor(), tensorOrNone(bias), g);
    // x is needed only for the weight gradient; the weight (a parameter, alive anyway) always.
    const Tensor keepX = weight.requiresGrad() ? x.tensor() : Tensor();
    return makeResult(out, {x, weight, bias}, op,
                      [keepX, w = weight.tensor(), xs, g](const Tensor& grad, const std::vector<bool>& needs) {
                          LayerGrads r = grad.backend().conv2dBackward(keepX, w, grad, xs, g, wantedOf(needs));
                          return Grads{r.input, r.weight, r.bias};
                      });
}

Variable maxPool2d(const Variable& x, Size2d kernel, Size2d stride, Size2d padding) {
    const char* op = "maxPool2d";
    const Pool2dWindow w = poolWindow(op, x.shape(), kernel, stride, padding);
    RAVEN_CHECK(x.size(2) * x.size(3) <= (int64_t{1} << 24),
                std::string(op) + ": input " + shapeToString(x.shape()) + " has planes of more than 2^24 elements",
                "the argmax indices are stored as floats; pool a smaller image");
    MaxPool2dResult r = x.tensor().backend().maxPool2d(x.tensor(), w);
    return makeResult(r.values, {x}, op,
                      [argmax = r.argmax, xs = x.shape(), w](const Tensor& g, const std::vector<bool>&) {
                          return Grads{g.backend().maxPool2dBackward(argmax, g, xs, w)};
                      });
}

Variable avgPool2d(const Variable& x, Size2d kernel, Size2d stride, Size2d padding, bool countIncludePad) {
    const char* op = "avgPool2d";
    const Pool2dWindow w = poolWindow(op, x.shape(), kernel, stride, padding);
    const Tensor out = x.tensor().backend().avgPool2d(x.tensor(), w, countIncludePad);
    RAVEN_ASSERT(out.shape() == poolOutputShape(x.shape(), w), "avgPool2d: backend returned a wrong shape");
    return makeResult(out, {x}, op, [xs = x.shape(), w, countIncludePad](const Tensor& g, const std::vector<bool>&) {
        return Grads{g.backend().avgPool2dBackward(g, xs, w, countIncludePad)};
    });
}

Variable layerNorm(const Variable& x, const Shape& normalizedShape, const Variable& weight, const Variable& bias,
                   float eps) {
    const char* op = "layerNorm";
    Backend& backend = backendOf(op, {&x, &weight, &bias});
    const Shape& xs = x.shape();
    const size_t n = normalizedShape.size();
    bool trailing = !normalizedShape.empty() && n <= xs.size();
    for (size_t i = 0; trailing && i < n; ++i) trailing = xs[xs.size() - n + i] == normalizedShape[i];
    RAVEN_CHECK(trailing && numelOf(normalizedShape) >= 1,
                std::string(op) + ": normalized shape " + shapeToString(normalizedShape) +
                    " is not the (non-empty) trailing part of input " + shapeToString(xs),
                "give the sizes of the last dimensions to normalize over, e.g. [features]");
    RAVEN_CHECK(x.numel() >= 1, std::string(op) + ": input " + shapeToString(xs) + " is empty", "");
    RAVEN_CHECK(eps >= 0.0f, std::string(op) + ": eps " + std::to_string(eps) + " is negative", "use eps = 1e-5");
    requireOptionalShape(op, "weight", tensorOrNone(weight), normalizedShape);
    requireOptionalShape(op, "bias", tensorOrNone(bias), normalizedShape);
    const int64_t features = numelOf(normalizedShape);

    NormResult r = backend.layerNorm(x.tensor(), features, tensorOrNone(weight), tensorOrNone(bias), eps);
    return makeResult(r.y, {x, weight, bias}, op,
                      [x = x.tensor(), w = tensorOrNone(weight), mean = r.mean, invStd = r.invStd, features,
                       normalizedShape](const Tensor& g, const std::vector<bool>& needs) {
                          LayerGrads gr =
                              g.backend().layerNormBackward(x, w, mean, invStd, g, features, wantedOf(needs));
                          // The backend gives weight and bias gradients flat, [features].
                          if (gr.weight.defined()) gr.weight = gr.weight.view(normalizedShape);
                          if (gr.bias.defined()) gr.bias = gr.bias.view(normalizedShape);
                          return Grads{gr.input, gr.weight, gr.bias};
                      });
}

Variable batchNorm(const Variable& x, const Variable& weight, const Variable& bias, const Tensor& runningMean,
                   const Tensor& runningVar, bool training, float momentum, float eps) {
    const char* op = "batchNorm";
    Backend& backend = backendOf(op, {&x, &weight, &bias});
    const Shape& xs = x.shape();
    RAVEN_CHECK(xs.size() >= 2 && x.numel() >= 1,
                std::string(op) + ": input " + shapeToString(xs) + " needs a batch and a channel dimension",
                "give x as [N, C] or [N, C, H, W]");
    const int64_t channels = xs[1];
    const int64_t perChannel = x.numel() / channels;
    requireOptionalShape(op, "weight", tensorOrNone(weight), {channels});
    requireOptionalShape(op, "bias", tensorOrNone(bias), {channels});
    requireOptionalShape(op, "running mean", runningMean, {channels});
    requireOptionalShape(op, "running variance", runningVar, {channels});
    for (const Tensor* running : {&runningMean, &runningVar}) {
        RAVEN_CHECK(!running->defined() || running->isContiguous(),
                    std::string(op) + ": the running statistics are updated in place and must be contiguous",
                    "keep the running mean and variance as their own tensors");
        if (running->defined()) commonBackend({&x.tensor(), running}, op);
    }
    RAVEN_CHECK(training || (runningMean.defined() && runningVar.defined()),
                std::string(op) + ": evaluation mode needs the running mean and variance", "pass them, or train");
    RAVEN_CHECK(!training || perChannel >= 2,
                std::string(op) + ": training needs more than one value per channel, input " + shapeToString(xs) +
                    " has " + str(perChannel),
                "use a batch of at least 2 samples, or evaluation mode");
    RAVEN_CHECK(eps >= 0.0f, std::string(op) + ": eps " + std::to_string(eps) + " is negative", "use eps = 1e-5");

    NormResult r = backend.batchNorm(x.tensor(), tensorOrNone(weight), tensorOrNone(bias), runningMean, runningVar,
                                     training, momentum, eps);
    return makeResult(r.y, {x, weight, bias}, op,
                      [x = x.tensor(), w = tensorOrNone(weight), mean = r.mean, invStd = r.invStd, training](
                          const Tensor& g, const std::vector<bool>& needs) {
                          LayerGrads gr =
                              g.backend().batchNormBackward(x, w, mean, invStd, g, training, wantedOf(needs));
                          return Grads{gr.input, gr.weight, gr.bias};
                      });
}

Variable embedding(const Tensor& indices, const Variable& weight, int64_t paddingIndex) {
    const char* op = "embedding";
    Backend& backend = commonBackend({&indices, &weight.tensor()}, op);
    requireRank(op, "weight", weight.shape(), 2, "[vocabulary, dim]");
    const int64_t vocabulary = weight.size(0);
    RAVEN_CHECK(vocabulary >= 1 && weight.size(1) >= 1,
                std::string(op) + ": weight " + shapeToString(weight.shape()) + " is empty", "");
    RAVEN_CHECK(
        paddingIndex >= -1 && paddingIndex < vocabulary,
        std::string(op) + ": padding index " + str(paddingIndex) + " is outside the vocabulary of " + str(vocabulary),
        "use -1 for none, or a row of the weight");
    const Tensor out = backend.embedding(indices, weight.tensor());
    return makeResult(out, {weight}, op,
                      [indices, vocabulary, paddingIndex](const Tensor& g, const std::vector<bool>&) {
                          return Grads{g.backend().embeddingBackward(indices, g, vocabulary, paddingIndex)};
                      });
}

Variable dropout(const Variable& x, float p, bool training, uint64_t seed, uint64_t offset) {
    RAVEN_CHECK(p >= 0.0f && p <= 1.0f, "dropout: probability " + std::to_string(p) + " is outside [0, 1]",
                "give the probability of dropping an element, e.g. 0.1");
    if (!training || p == 0.0f) return x;
    const Tensor out = x.tensor().backend().dropout(x.tensor(), p, seed, offset);
    // The mask is regenerated from (seed, offset): dL/dx = dropout(dL/dy) with the same arguments.
    return makeResult(out, {x}, "dropout", [p, seed, offset](const Tensor& g, const std::vector<bool>&) {
        return Grads{g.backend().dropout(g, p, seed, offset)};
    });
}

Variable scaledDotProductAttention(const Variable& q, const Variable& k, const Variable& v, bool causal, float scale) {
    const char* op = "scaledDotProductAttention";
    Backend& backend = backendOf(op, {&q, &k, &v});
    const Shape &qs = q.shape(), &ks = k.shape(), &vs = v.shape();
    const size_t rank = qs.size();
    RAVEN_CHECK(rank >= 2 && ks.size() == rank && vs.size() == rank && equalLeading(qs, ks) && equalLeading(qs, vs),
                std::string(op) + ": q " + shapeToString(qs) + ", k " + shapeToString(ks) + ", v " + shapeToString(vs) +
                    " need one rank (>= 2) and equal leading dimensions",
                "give q [..., Tq, D], k [..., Tk, D], v [..., Tk, Dv]");
    RAVEN_CHECK(qs[rank - 1] == ks[rank - 1] && ks[rank - 2] == vs[rank - 2],
                std::string(op) + ": q " + shapeToString(qs) + " and k " + shapeToString(ks) +
                    " must share the feature size, k and v " + shapeToString(vs) + " the sequence length",
                "give q [..., Tq, D], k [..., Tk, D], v [..., Tk, Dv]");
    RAVEN_CHECK(q.numel() >= 1 && k.numel() >= 1 && v.numel() >= 1,
                std::string(op) + ": q " + shapeToString(qs) + ", k " + shapeToString(ks) + ", v " + shapeToString(vs) +
                    " must not be empty",
                "");
    RAVEN_CHECK(scale >= 0.0f, std::string(op) + ": scale " + std::to_string(scale) + " is negative",
                "use 0 for 1/sqrt(D)");

    const Tensor q4 = asAttention4d(q.tensor()), k4 = asAttention4d(k.tensor()), v4 = asAttention4d(v.tensor());
    AttentionResult r = backend.attention(q4, k4, v4, causal, scale);
    Shape outShape = qs;
    outShape.back() = vs.back();
    return makeResult(
        r.out.view(outShape), {q, k, v}, op,
        [q4, k4, v4, probs = r.probs, causal, scale, qs, ks, vs](const Tensor& g, const std::vector<bool>& needs) {
            const Tensor g4 = asAttention4d(g);
            AttentionGrads a = g.backend().attentionBackward(q4, k4, v4, probs, g4, causal, scale, wantedOf(needs));
            Grads out{a.query, a.key, a.value};
            const Shape* shapes[] = {&qs, &ks, &vs};
            for (size_t i = 0; i < 3; ++i)
                if (out[i].defined()) out[i] = out[i].view(*shapes[i]);
            return out;
        });
}

}  // namespace raven
