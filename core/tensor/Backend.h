#pragma once
// Backend: where tensors live and where kernels run (the CPU now, Vulkan devices later).
//
// Model:
//  - A backend owns the storage of its tensors and allocates every kernel's output itself; kernels
//    take Tensors (any strides, including stride-0 broadcast views, unless a kernel says otherwise)
//    and return new contiguous Tensors. Inputs are never modified, except the destination of
//    `copyInto`.
//  - A backend may execute lazily: record kernels into a command buffer and submit them at a sync
//    point. The only sync point is `readToHost` (and `synchronize`). Nothing above the backend reads
//    tensor values on the host, so a whole training step can be recorded and replayed.
//  - Determinism: every kernel has a fixed accumulation order that depends on the logical shapes only,
//    never on the number of threads or on timing, so the same inputs give bit-identical outputs run
//    after run (the CPU backend documents per kernel how it keeps this).
//  - Shape checks that concern the caller (broadcasting, matmul inner sizes) are done in
//    TensorOps.h before a kernel is called, so a backend may RAVEN_ASSERT its preconditions.
//  - Kernel families that differ only in the per-element function share one virtual with an op enum
//    (one shader with a specialization constant on Vulkan). Backward kernels appear where the
//    gradient is not a cheap composition of forward kernels.
//  - Layer kernels (conv2d, pooling, norms, embedding, dropout, attention) follow PyTorch's layouts
//    and semantics (torch.nn.functional); autograd/LayerOps.h checks their shapes first. A forward
//    returns what its backward needs (argmax, saved statistics, attention probabilities) as Tensors,
//    so nothing is kept inside the backend between the two. Integer data (embedding indices, max-pool
//    argmax) travels as float32 holding integers exactly (below 2^24), as cross-entropy's targets do.
//    A backward computes only the gradients it is asked for (GradsWanted) and returns the others
//    undefined.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/KernelMode.h"
#include "tensor/Tensor.h"

namespace raven {

enum class UnaryOp {
    Neg,
    Exp,
    Log,
    Sqrt,
    Abs,
    Tanh,
    Sigmoid,
    Relu,
    GeluTanh,  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    GeluErf,   // 0.5 x (1 + erf(x / sqrt(2))): PyTorch's default nn.GELU
};

enum class ScalarOp {
    Add,  // x + s
    Mul,  // x * s
    Pow,  // x ^ s
};

enum class BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Maximum,
    Minimum,
    Equal,  // 1 where a == b, else 0
    // Backward kernels: a is the upstream gradient, b the saved forward input (x) or output (y).
    ReluBackward,      // a * (x > 0)
    TanhBackward,      // a * (1 - y^2)
    SigmoidBackward,   // a * y * (1 - y)
    GeluTanhBackward,  // a * d/dx gelu_tanh(x)
    GeluErfBackward,   // a * d/dx gelu_erf(x)
};

enum class ReduceOp { Sum, Max };

// --- parameters and results of the layer kernels ---

// Stride, padding (zeros on each side), dilation and groups of a 2-D convolution (F.conv2d).
struct Conv2dGeometry {
    int64_t strideH = 1, strideW = 1;
    int64_t padH = 0, padW = 0;
    int64_t dilationH = 1, dilationW = 1;
    int64_t groups = 1;
};

// A pooling window (F.max_pool2d / F.avg_pool2d, ceil_mode=False): size, step and padding.
struct Pool2dWindow {
    int64_t kernelH = 1, kernelW = 1;
    int64_t strideH = 1, strideW = 1;
    int64_t padH = 0, padW = 0;
};

// Which gradients a backward kernel computes, in the order of its result's fields.
using GradsWanted = std::array<bool, 3>;

// Gradients of an op with an input, a weight and a bias; undefined where not wanted (or no weight).
struct LayerGrads {
    Tensor input, weight, bias;
};

struct MaxPool2dResult {
    Tensor values;  // [N, C, outH, outW]
    Tensor argmax;  // [N, C, outH, outW]: ih * W + iw of the chosen input in its plane, as a float
};

// A normalization's output and the statistics its backward needs.
struct NormResult {
    Tensor y;
    Tensor mean;    // per row (layer norm) or per channel (batch norm)
    Tensor invStd;  // 1 / sqrt(variance + eps), alike
};

struct AttentionResult {
    Tensor out;    // [B, H, Tq, Dv]
    Tensor probs;  // [B, H, Tq, Tk]: the softmax probabilities
};

struct AttentionGrads {
    Tensor query, key, value;
};

// --- fused optimizer updates ---
// One step of torch.optim.Adam / AdamW (amsgrad off) on one parameter, with the scalars that depend on
// the step count computed by the caller (nn/Adam.cpp, in double, then rounded to float):
//   p' = p * decayFactor                       (AdamW; 1 otherwise)
//   g  = grad + weightDecay * p                (Adam's L2 term, with p before decay; 0 for AdamW)
//   m  = beta1 * m + oneMinusBeta1 * g         (m = oneMinusBeta1 * g on the first step)
//   v  = beta2 * v + oneMinusBeta2 * g * g     (alike)
//   p' = p' - stepSize * m / (sqrt(v) * invSqrtCorrection2 + eps)
// stepSize = lr / (1 - beta1^t), invSqrtCorrection2 = 1 / sqrt(1 - beta2^t).
struct AdamStepScalars {
    float beta1 = 0.9f, oneMinusBeta1 = 0.1f;
    float beta2 = 0.999f, oneMinusBeta2 = 0.001f;
    float invSqrtCorrection2 = 1.0f;
    float eps = 1e-8f;
    float stepSize = 1e-3f;
    float weightDecay = 0.0f;
    float decayFactor = 1.0f;
};

// New tensors (the inputs are not modified): the parameter's next value and the two moments.
struct AdamUpdate {
    Tensor param, expAvg, expAvgSq;
};

// One step of torch.optim.SGD (foreach off) on one parameter:
//   g = grad + weightDecay * p
//   buf = g (first step)  or  momentum * buf + oneMinusDampening * g     (only when momentum != 0)
//   g = nesterov ? g + momentum * buf : buf                               (only when momentum != 0)
//   p' = p - lr * g
struct SgdStepScalars {
    float lr = 1e-3f;
    float weightDecay = 0.0f;
    float momentum = 0.0f;
    float oneMinusDampening = 1.0f;
    bool nesterov = false;
};

// The parameter's next value and the momentum buffer (undefined when momentum is 0).
struct SgdUpdate {
    Tensor param, momentumBuffer;
};

const char* unaryOpName(UnaryOp op);
const char* binaryOpName(BinaryOp op);

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;

    // The kernels' mode (KernelMode.h), set by whoever computes a work unit before its first kernel.
    void setKernelMode(KernelMode mode) { kernelMode_ = mode; }
    KernelMode kernelMode() const { return kernelMode_; }

    // --- memory and transfers ---
    virtual std::shared_ptr<Storage> allocate(int64_t numel) = 0;
    // A new contiguous tensor holding numelOf(shape) values copied from `data`.
    virtual Tensor upload(const Shape& shape, const float* data) = 0;
    // The values of `t` in row-major order. The sync point: waits for all recorded work.
    virtual std::vector<float> readToHost(const Tensor& t) = 0;
    // Waits for all recorded work without reading anything back.
    virtual void synchronize() {}
    virtual Tensor fill(const Shape& shape, float value) = 0;
    // A contiguous copy of any view.
    virtual Tensor contiguousCopy(const Tensor& src) = 0;
    // Writes src into the (possibly strided) view dst; same shape; dst must not overlap itself
    // (no stride-0 dimension) and must not overlap src.
    virtual void copyInto(const Tensor& dst, const Tensor& src) = 0;

    // --- elementwise (output shape = input shape; binary inputs have equal shapes) ---
    virtual Tensor unary(UnaryOp op, const Tensor& x) = 0;
    virtual Tensor scalar(ScalarOp op, const Tensor& x, float s) = 0;
    virtual Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) = 0;

    // --- reductions over sorted, distinct axes (non-empty) ---
    virtual Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int>& axes, bool keepDim) = 0;

    // --- linear algebra ---
    // a [..., M, K] times b [..., K, N] with equal batch dimensions (the caller expands them), plus
    // bias [N] added to every row when defined. Any strides; output contiguous [..., M, N].
    virtual Tensor matmul(const Tensor& a, const Tensor& b, const Tensor& bias) = 0;

    // --- along the last axis ---
    virtual Tensor softmax(const Tensor& x) = 0;
    virtual Tensor logSoftmax(const Tensor& x) = 0;
    // Given y = softmax(x) and dL/dy: dL/dx = y * (g - sum(g * y)).
    virtual Tensor softmaxBackward(const Tensor& y, const Tensor& gradY) = 0;
    // Given y = logSoftmax(x) and dL/dy: dL/dx = g - exp(y) * sum(g).
    virtual Tensor logSoftmaxBackward(const Tensor& y, const Tensor& gradY) = 0;

    // --- losses ---
    // logits [N, C]; targets [N] holding class indices as floats (exact below 2^24). Returns the
    // per-sample loss [N] of cross-entropy with label smoothing (PyTorch semantics):
    // q = (1 - s) onehot(t) + s / C, loss_n = -sum_c q_c log_softmax(x_n)_c.
    // Throws raven::Error when a target is not an integer in [0, C).
    virtual Tensor crossEntropy(const Tensor& logits, const Tensor& targets, float labelSmoothing) = 0;
    // dL/dlogits [N, C] = gradLoss[n] * (softmax(x_n) - q_n).
    virtual Tensor crossEntropyBackward(const Tensor& logits, const Tensor& targets, const Tensor& gradLoss,
                                        float labelSmoothing) = 0;

    // --- layer kernels (NCHW; inputs of any strides, outputs contiguous) ---
    // x [N, C, H, W], weight [K, C/groups, kH, kW], bias [K] or undefined -> [N, K, outH, outW].
    virtual Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                          const Conv2dGeometry& geometry) = 0;
    // Gradients of x (of inputShape), weight and bias from dL/dy. x is read only for the weight gradient
    // (it may be undefined otherwise).
    virtual LayerGrads conv2dBackward(const Tensor& x, const Tensor& weight, const Tensor& gradY,
                                      const Shape& inputShape, const Conv2dGeometry& geometry, GradsWanted wanted) = 0;

    // x [N, C, H, W]; padding treated as -infinity; NaN wins.
    virtual MaxPool2dResult maxPool2d(const Tensor& x, const Pool2dWindow& window) = 0;
    // dL/dx of inputShape: each gradY element added to the input its argmax names.
    virtual Tensor maxPool2dBackward(const Tensor& argmax, const Tensor& gradY, const Shape& inputShape,
                                     const Pool2dWindow& window) = 0;
    virtual Tensor avgPool2d(const Tensor& x, const Pool2dWindow& window, bool countIncludePad) = 0;
    virtual Tensor avgPool2dBackward(const Tensor& gradY, const Shape& inputShape, const Pool2dWindow& window,
                                     bool countIncludePad) = 0;

    // x viewed as [rows, features] (features = the trailing normalized elements); weight and bias
    // [features] or undefined. mean and invStd are [rows] (biased variance).
    virtual NormResult layerNorm(const Tensor& x, int64_t features, const Tensor& weight, const Tensor& bias,
                                 float eps) = 0;
    virtual LayerGrads layerNormBackward(const Tensor& x, const Tensor& weight, const Tensor& mean,
                                         const Tensor& invStd, const Tensor& gradY, int64_t features,
                                         GradsWanted wanted) = 0;

    // x [N, C, ...]; weight, bias, runningMean, runningVar [C] or undefined. In training it normalizes
    // with the batch statistics and, where defined, UPDATES runningMean and runningVar in place (the one
    // exception to "inputs are never modified"; they must be contiguous): running = (1 - momentum)
    // running + momentum stat, the variance unbiased. In evaluation it uses the running statistics.
    // mean and invStd [C] are those that normalized (batch or running).
    virtual NormResult batchNorm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& runningMean,
                                 const Tensor& runningVar, bool training, float momentum, float eps) = 0;
    // In training the input gradient includes the dependence of the batch statistics on x.
    virtual LayerGrads batchNormBackward(const Tensor& x, const Tensor& weight, const Tensor& mean,
                                         const Tensor& invStd, const Tensor& gradY, bool training,
                                         GradsWanted wanted) = 0;

    // Rows of weight [vocabulary, dim] picked by indices (any shape, integers as floats) ->
    // [indices.shape..., dim]. Throws raven::Error when an index is not an integer in [0, vocabulary).
    virtual Tensor embedding(const Tensor& indices, const Tensor& weight) = 0;
    // dL/dweight [vocabulary, dim]: gradY rows summed per index in index order; row paddingIndex
    // (-1 = none) stays zero.
    virtual Tensor embeddingBackward(const Tensor& indices, const Tensor& gradY, int64_t vocabulary,
                                     int64_t paddingIndex) = 0;

    // Element i (row-major) is kept when the counter-based generator's uniform at (seed, offset + i) is
    // >= p, and then scaled by 1 / (1 - p); p = 1 drops all. Being a fixed mask times a constant, the
    // same call on dL/dy is the backward.
    virtual Tensor dropout(const Tensor& x, float p, uint64_t seed, uint64_t offset) = 0;

    // softmax(scale q k^T + causal mask) v: q [B, H, Tq, D], k [B, H, Tk, D], v [B, H, Tk, Dv];
    // scale 0 means 1 / sqrt(D); causal: query i sees keys 0..i.
    virtual AttentionResult attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal, float scale) = 0;
    virtual AttentionGrads attentionBackward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& probs,
                                             const Tensor& gradOut, bool causal, float scale, GradsWanted wanted) = 0;

    // --- fused optimizer updates (see AdamStepScalars and SgdStepScalars) ---
    // All operands have the parameter's shape (any strides); expAvg/expAvgSq (both or neither) and
    // momentumBuffer undefined mean the first step. The default composes the elementwise kernels above
    // in the order of the formulas, one kernel per operation; a backend overrides it with one pass that
    // reads each operand once and performs the same float operations in the same order.
    virtual AdamUpdate adamUpdate(const Tensor& param, const Tensor& grad, const Tensor& expAvg, const Tensor& expAvgSq,
                                  const AdamStepScalars& s);
    virtual SgdUpdate sgdUpdate(const Tensor& param, const Tensor& grad, const Tensor& momentumBuffer,
                                const SgdStepScalars& s);

protected:
    KernelMode kernelMode_ = KernelMode::Fast;
};

// The composed updates: what every backend gives unless it fuses them.
inline AdamUpdate Backend::adamUpdate(const Tensor& param, const Tensor& grad, const Tensor& expAvg,
                                      const Tensor& expAvgSq, const AdamStepScalars& s) {
    Tensor p = s.decayFactor != 1.0f ? scalar(ScalarOp::Mul, param, s.decayFactor) : param;
    const Tensor g =
        s.weightDecay != 0.0f ? binary(BinaryOp::Add, grad, scalar(ScalarOp::Mul, param, s.weightDecay)) : grad;
    const Tensor ga = scalar(ScalarOp::Mul, g, s.oneMinusBeta1);
    AdamUpdate r;
    r.expAvg = expAvg.defined() ? binary(BinaryOp::Add, scalar(ScalarOp::Mul, expAvg, s.beta1), ga) : ga;
    const Tensor gga = scalar(ScalarOp::Mul, binary(BinaryOp::Mul, g, g), s.oneMinusBeta2);
    r.expAvgSq = expAvgSq.defined() ? binary(BinaryOp::Add, scalar(ScalarOp::Mul, expAvgSq, s.beta2), gga) : gga;
    const Tensor denom =
        scalar(ScalarOp::Add, scalar(ScalarOp::Mul, unary(UnaryOp::Sqrt, r.expAvgSq), s.invSqrtCorrection2), s.eps);
    r.param = binary(BinaryOp::Sub, p, scalar(ScalarOp::Mul, binary(BinaryOp::Div, r.expAvg, denom), s.stepSize));
    return r;
}

inline SgdUpdate Backend::sgdUpdate(const Tensor& param, const Tensor& grad, const Tensor& momentumBuffer,
                                    const SgdStepScalars& s) {
    Tensor g = s.weightDecay != 0.0f ? binary(BinaryOp::Add, grad, scalar(ScalarOp::Mul, param, s.weightDecay)) : grad;
    SgdUpdate r;
    if (s.momentum != 0.0f) {
        if (momentumBuffer.defined()) {
            const Tensor damped = s.oneMinusDampening != 1.0f ? scalar(ScalarOp::Mul, g, s.oneMinusDampening) : g;
            r.momentumBuffer = binary(BinaryOp::Add, scalar(ScalarOp::Mul, momentumBuffer, s.momentum), damped);
        } else {
            r.momentumBuffer = contiguousCopy(g);
        }
        g = s.nesterov ? binary(BinaryOp::Add, g, scalar(ScalarOp::Mul, r.momentumBuffer, s.momentum))
                       : r.momentumBuffer;
    }
    r.param = binary(BinaryOp::Sub, param, scalar(ScalarOp::Mul, g, s.lr));
    return r;
}

}  // namespace raven
