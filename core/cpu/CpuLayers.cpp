// The layer kernels of the CPU backend: each makes its inputs contiguous, allocates the outputs and
// calls the matching pure function of raven::cpu::kernels with this backend's pool as the ParallelFor.
// Shapes were checked by autograd/LayerOps.cpp; the kernels' own validate() remains as a second guard
// (it throws raven::Error). Integer data travels as floats (Backend.h) and is converted here.
#include <cmath>
#include <mutex>
#include <string>

#include "base/Error.h"
#include "cpu/CpuBackend.h"
#include "tensor/BackendShapes.h"
#include "cpu/kernels/Kernels.h"

namespace raven {

namespace k = cpu::kernels;

namespace {

constexpr int64_t kConvertGrain = 1 << 15;  // elements per chunk of an index conversion

// Every kernel item (a sample, a channel, a plane, a block of columns) is a sizeable piece of work,
// so the pool may hand out single items.
k::ParallelFor parallelOver(ThreadPool& pool) {
    return [&pool](int64_t n, const std::function<void(int64_t, int64_t)>& body) {
        pool.parallelFor(n, 1, [&body](int64_t begin, int64_t end) { body(begin, end); });
    };
}

const float* dataOrNull(const Tensor& t) { return t.defined() ? CpuBackend::hostData(t) : nullptr; }

// Indices stored as floats -> int64; a value that is not an integer is a raven::Error (the kernels
// check the range). Split by the pool: a max-pool's argmax has as many entries as its output.
std::vector<int64_t> toIndices(ThreadPool& pool, const Tensor& indices, const char* op) {
    const Tensor c = indices.contiguous();
    const float* p = c.numel() > 0 ? CpuBackend::hostData(c) : nullptr;
    std::vector<int64_t> out(static_cast<size_t>(c.numel()));
    int64_t bad = -1;  // the first position that is not an integer
    std::mutex badMutex;
    pool.parallelFor(c.numel(), kConvertGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            const float v = p[i];
            // |v| < 2^62 and integral <=> the round trip through int64 gives v back (NaN fails both).
            if (!(std::fabs(v) < 0x1p62f) || static_cast<float>(static_cast<int64_t>(v)) != v) {
                std::lock_guard<std::mutex> lock(badMutex);
                if (bad < 0 || i < bad) bad = i;
                return;
            }
            out[static_cast<size_t>(i)] = static_cast<int64_t>(v);
        }
    });
    if (bad >= 0)
        fail(std::string(op) + ": index " + std::to_string(p[bad]) + " at position " + std::to_string(bad) +
                 " is not an integer",
             "indices are integers stored exactly in float tensors (below 2^24)");
    return out;
}

}  // namespace

// The verifiable mode (KernelMode.h) has kernels for what the MLP and CNN use: elementwise ops,
// reductions, matrix products, softmax and cross-entropy, convolution, max and average pooling,
// embedding. The others below call this first, so that a verifiable unit is never computed by a kernel
// whose result may differ between machines.
void CpuBackend::requireFastMode(const char* op) const {
    if (kernelMode_ == KernelMode::Verifiable)
        fail(std::string("the CPU backend has no verifiable kernel for ") + op + " yet",
             "run this job in the fast kernel mode, or use a model made of layers the verifiable mode "
             "supports (linear, conv2d, max and average pooling, embedding, the elementwise activations)");
}

cpu::kernels::SgemmFn CpuBackend::gemmForMode() const {
    return kernelMode_ == KernelMode::Verifiable ? &cpu::kernels::sgemmFixedOrder : &cpu::kernels::sgemm;
}

// --- convolution ---

Tensor CpuBackend::conv2d(const Tensor& xIn, const Tensor& weightIn, const Tensor& biasIn, const Conv2dGeometry& g) {
    const Tensor x = xIn.contiguous(), weight = weightIn.contiguous();
    const Tensor bias = biasIn.defined() ? biasIn.contiguous() : Tensor();
    const k::Conv2dShape s = convShape(x.shape(), weight.shape(), g);
    s.validate();
    Tensor y = empty({s.batch, s.outChannels, s.outH(), s.outW()});
    k::conv2d_forward(s, hostData(x), hostData(weight), dataOrNull(bias), hostData(y), parallelOver(*pool_), gemmForMode());
    return y;
}

LayerGrads CpuBackend::conv2dBackward(const Tensor& xIn, const Tensor& weightIn, const Tensor& gradYIn,
                                      const Shape& inputShape, const Conv2dGeometry& g, GradsWanted wanted) {
    const auto [wantX, wantWeight, wantBias] = wanted;
    RAVEN_ASSERT(!wantWeight || xIn.defined(), "conv2dBackward: the weight gradient needs x");
    const Tensor x = wantWeight ? xIn.contiguous() : Tensor(), weight = weightIn.contiguous();
    const Tensor gradY = gradYIn.contiguous();
    const k::Conv2dShape s = convShape(inputShape, weight.shape(), g);
    s.validate();
    LayerGrads grads;
    if (wantX) grads.input = empty(inputShape);
    if (wantWeight) grads.weight = empty(weight.shape());
    if (wantBias) grads.bias = empty({s.outChannels});
    k::conv2d_backward(s, dataOrNull(x), hostData(weight), hostData(gradY), wantX ? hostData(grads.input) : nullptr,
                       wantWeight ? hostData(grads.weight) : nullptr, wantBias ? hostData(grads.bias) : nullptr,
                       parallelOver(*pool_), gemmForMode());
    return grads;
}

// --- pooling ---

MaxPool2dResult CpuBackend::maxPool2d(const Tensor& xIn, const Pool2dWindow& window) {
    const Tensor x = xIn.contiguous();
    const k::Pool2dShape s = poolShape(x.shape(), window);
    s.validate();
    RAVEN_ASSERT(s.height * s.width <= (int64_t{1} << 24), "maxPool2d: plane too large for float indices");
    const Shape outShape{s.batch, s.channels, s.outH(), s.outW()};
    MaxPool2dResult result{empty(outShape), empty(outShape)};
    std::vector<int64_t> argmax(static_cast<size_t>(numelOf(outShape)));
    k::max_pool2d_forward(s, hostData(x), hostData(result.values), argmax.data(), parallelOver(*pool_));
    float* a = hostData(result.argmax);
    pool_->parallelFor(static_cast<int64_t>(argmax.size()), kConvertGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) a[i] = static_cast<float>(argmax[static_cast<size_t>(i)]);
    });
    return result;
}

Tensor CpuBackend::maxPool2dBackward(const Tensor& argmaxIn, const Tensor& gradYIn, const Shape& inputShape,
                                     const Pool2dWindow& window) {
    const k::Pool2dShape s = poolShape(inputShape, window);
    s.validate();
    const std::vector<int64_t> argmax = toIndices(*pool_, argmaxIn, "maxPool2dBackward");
    const Tensor gradY = gradYIn.contiguous();
    Tensor dx = empty(inputShape);
    k::max_pool2d_backward(s, argmax.data(), hostData(gradY), hostData(dx), parallelOver(*pool_));
    return dx;
}

Tensor CpuBackend::avgPool2d(const Tensor& xIn, const Pool2dWindow& window, bool countIncludePad) {
    const Tensor x = xIn.contiguous();
    const k::Pool2dShape s = poolShape(x.shape(), window);
    s.validate();
    Tensor y = empty({s.batch, s.channels, s.outH(), s.outW()});
    k::avg_pool2d_forward(s, hostData(x), hostData(y), countIncludePad, parallelOver(*pool_),
                          kernelMode_ == KernelMode::Verifiable);
    return y;
}

Tensor CpuBackend::avgPool2dBackward(const Tensor& gradYIn, const Shape& inputShape, const Pool2dWindow& window,
                                     bool countIncludePad) {
    const k::Pool2dShape s = poolShape(inputShape, window);
    s.validate();
    const Tensor gradY = gradYIn.contiguous();
    Tensor dx = empty(inputShape);
    k::avg_pool2d_backward(s, hostData(gradY), hostData(dx), countIncludePad, parallelOver(*pool_),
                           kernelMode_ == KernelMode::Verifiable);
    return dx;
}

// --- normalization ---

NormResult CpuBackend::layerNorm(const Tensor& xIn, int64_t features, const Tensor& weightIn, const Tensor& biasIn,
                                 float eps) {
    requireFastMode("layerNorm");
    const Tensor x = xIn.contiguous();
    const Tensor weight = weightIn.defined() ? weightIn.contiguous() : Tensor();
    const Tensor bias = biasIn.defined() ? biasIn.contiguous() : Tensor();
    RAVEN_ASSERT(features > 0 && x.numel() % features == 0, "layerNorm: features must divide the element count");
    const k::LayerNormShape s{.rows = x.numel() / features, .features = features, .eps = eps};
    s.validate();
    NormResult result{empty(x.shape()), empty({s.rows}), empty({s.rows})};
    k::layer_norm_forward(s, hostData(x), dataOrNull(weight), dataOrNull(bias), hostData(result.y),
                          hostData(result.mean), hostData(result.invStd), parallelOver(*pool_));
    return result;
}

LayerGrads CpuBackend::layerNormBackward(const Tensor& xIn, const Tensor& weightIn, const Tensor& meanIn,
                                         const Tensor& invStdIn, const Tensor& gradYIn, int64_t features,
                                         GradsWanted wanted) {
    requireFastMode("layerNormBackward");
    const auto [wantX, wantWeight, wantBias] = wanted;
    const Tensor x = xIn.contiguous(), mean = meanIn.contiguous(), invStd = invStdIn.contiguous();
    const Tensor gradY = gradYIn.contiguous();
    const Tensor weight = weightIn.defined() ? weightIn.contiguous() : Tensor();
    const k::LayerNormShape s{.rows = x.numel() / features, .features = features};
    s.validate();
    LayerGrads grads;
    if (wantX) grads.input = empty(x.shape());
    if (wantWeight) grads.weight = empty({features});
    if (wantBias) grads.bias = empty({features});
    k::layer_norm_backward(s, hostData(x), dataOrNull(weight), hostData(mean), hostData(invStd), hostData(gradY),
                           wantX ? hostData(grads.input) : nullptr, wantWeight ? hostData(grads.weight) : nullptr,
                           wantBias ? hostData(grads.bias) : nullptr, parallelOver(*pool_));
    return grads;
}

NormResult CpuBackend::batchNorm(const Tensor& xIn, const Tensor& weightIn, const Tensor& biasIn,
                                 const Tensor& runningMean, const Tensor& runningVar, bool training, float momentum,
                                 float eps) {
    requireFastMode("batchNorm");
    const Tensor x = xIn.contiguous();
    const Tensor weight = weightIn.defined() ? weightIn.contiguous() : Tensor();
    const Tensor bias = biasIn.defined() ? biasIn.contiguous() : Tensor();
    // The running statistics are written in place, so they are used as they are, never copied.
    for (const Tensor* running : {&runningMean, &runningVar})
        RAVEN_ASSERT(!running->defined() || running->isContiguous(),
                     "batchNorm: running statistics must be contiguous");
    const k::BatchNormShape s = batchNormShape(x, momentum, eps);
    s.validate(training);
    NormResult result{empty(x.shape()), empty({s.channels}), empty({s.channels})};
    float* rm = runningMean.defined() ? hostData(runningMean) : nullptr;
    float* rv = runningVar.defined() ? hostData(runningVar) : nullptr;
    k::batch_norm_forward(s, training, hostData(x), dataOrNull(weight), dataOrNull(bias), rm, rv, hostData(result.y),
                          hostData(result.mean), hostData(result.invStd), parallelOver(*pool_));
    return result;
}

LayerGrads CpuBackend::batchNormBackward(const Tensor& xIn, const Tensor& weightIn, const Tensor& meanIn,
                                         const Tensor& invStdIn, const Tensor& gradYIn, bool training,
                                         GradsWanted wanted) {
    requireFastMode("batchNormBackward");
    const auto [wantX, wantWeight, wantBias] = wanted;
    const Tensor x = xIn.contiguous(), mean = meanIn.contiguous(), invStd = invStdIn.contiguous();
    const Tensor gradY = gradYIn.contiguous();
    const Tensor weight = weightIn.defined() ? weightIn.contiguous() : Tensor();
    const k::BatchNormShape s = batchNormShape(x, 0.1f, 0.0f);
    s.validate(training);
    LayerGrads grads;
    if (wantX) grads.input = empty(x.shape());
    if (wantWeight) grads.weight = empty({s.channels});
    if (wantBias) grads.bias = empty({s.channels});
    k::batch_norm_backward(s, training, hostData(x), dataOrNull(weight), hostData(mean), hostData(invStd),
                           hostData(gradY), wantX ? hostData(grads.input) : nullptr,
                           wantWeight ? hostData(grads.weight) : nullptr, wantBias ? hostData(grads.bias) : nullptr,
                           parallelOver(*pool_));
    return grads;
}

// --- embedding and dropout ---

Tensor CpuBackend::embedding(const Tensor& indicesIn, const Tensor& weightIn) {
    RAVEN_ASSERT(weightIn.dim() == 2, "embedding: weight must be [vocabulary, dim]");
    const Tensor weight = weightIn.contiguous();
    const std::vector<int64_t> indices = toIndices(*pool_, indicesIn, "embedding");
    const k::EmbeddingShape s{.vocabulary = weight.size(0), .dim = weight.size(1), .count = indicesIn.numel()};
    Shape outShape = indicesIn.shape();
    outShape.push_back(s.dim);
    Tensor y = empty(outShape);
    k::embedding_forward(s, indices.data(), hostData(weight), y.numel() > 0 ? hostData(y) : nullptr,
                         parallelOver(*pool_));
    return y;
}

Tensor CpuBackend::embeddingBackward(const Tensor& indicesIn, const Tensor& gradYIn, int64_t vocabulary,
                                     int64_t paddingIndex) {
    const Tensor gradY = gradYIn.contiguous();
    const std::vector<int64_t> indices = toIndices(*pool_, indicesIn, "embeddingBackward");
    const k::EmbeddingShape s{
        .vocabulary = vocabulary, .dim = gradY.size(-1), .count = indicesIn.numel(), .paddingIndex = paddingIndex};
    Tensor dweight = empty({vocabulary, s.dim});
    k::embedding_backward(s, indices.data(), gradY.numel() > 0 ? hostData(gradY) : nullptr, hostData(dweight),
                          parallelOver(*pool_));
    return dweight;
}

Tensor CpuBackend::dropout(const Tensor& xIn, float p, uint64_t seed, uint64_t offset) {
    requireFastMode("dropout");
    const Tensor x = xIn.contiguous();
    const k::DropoutShape s{.count = x.numel(), .p = p, .seed = seed, .offset = offset};
    s.validate();
    Tensor y = empty(x.shape());
    if (s.count > 0) k::dropout_forward(s, hostData(x), hostData(y), parallelOver(*pool_));
    return y;
}

// --- attention ---

AttentionResult CpuBackend::attention(const Tensor& qIn, const Tensor& kIn, const Tensor& vIn, bool causal,
                                      float scale) {
    requireFastMode("attention");
    const Tensor q = qIn.contiguous(), key = kIn.contiguous(), v = vIn.contiguous();
    const k::AttentionShape s = attentionShape(q, key, v, causal, scale);
    s.validate();
    AttentionResult result{empty({s.batch, s.heads, s.queryLength, s.valueDim}),
                           empty({s.batch, s.heads, s.queryLength, s.keyLength})};
    k::attention_forward(s, hostData(q), hostData(key), hostData(v), hostData(result.out), hostData(result.probs),
                         parallelOver(*pool_));
    return result;
}

AttentionGrads CpuBackend::attentionBackward(const Tensor& qIn, const Tensor& kIn, const Tensor& vIn,
                                             const Tensor& probsIn, const Tensor& gradOutIn, bool causal, float scale,
                                             GradsWanted wanted) {
    requireFastMode("attentionBackward");
    const auto [wantQ, wantK, wantV] = wanted;
    const Tensor q = qIn.contiguous(), key = kIn.contiguous(), v = vIn.contiguous();
    const Tensor probs = probsIn.contiguous(), gradOut = gradOutIn.contiguous();
    const k::AttentionShape s = attentionShape(q, key, v, causal, scale);
    s.validate();
    AttentionGrads grads;
    if (wantQ) grads.query = empty(q.shape());
    if (wantK) grads.key = empty(key.shape());
    if (wantV) grads.value = empty(v.shape());
    k::attention_backward(s, hostData(q), hostData(key), hostData(v), hostData(probs), hostData(gradOut),
                          wantQ ? hostData(grads.query) : nullptr, wantK ? hostData(grads.key) : nullptr,
                          wantV ? hostData(grads.value) : nullptr, parallelOver(*pool_));
    return grads;
}

}  // namespace raven
