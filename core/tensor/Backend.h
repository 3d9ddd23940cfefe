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
//  - Room for the layer kernels (conv2d, pooling, norms, embedding, dropout, attention): they are
//    added as further virtuals next to the ones below.
#include <string>
#include <vector>

#include "tensor/Tensor.h"

namespace raven {

enum class UnaryOp {
    Neg, Exp, Log, Sqrt, Abs, Tanh, Sigmoid, Relu,
    GeluTanh,  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    GeluErf,   // 0.5 x (1 + erf(x / sqrt(2))): PyTorch's default nn.GELU
};

enum class ScalarOp {
    Add,  // x + s
    Mul,  // x * s
    Pow,  // x ^ s
};

enum class BinaryOp {
    Add, Sub, Mul, Div, Maximum, Minimum,
    Equal,  // 1 where a == b, else 0
    // Backward kernels: a is the upstream gradient, b the saved forward input (x) or output (y).
    ReluBackward,      // a * (x > 0)
    TanhBackward,      // a * (1 - y^2)
    SigmoidBackward,   // a * y * (1 - y)
    GeluTanhBackward,  // a * d/dx gelu_tanh(x)
    GeluErfBackward,   // a * d/dx gelu_erf(x)
};

enum class ReduceOp { Sum, Max };

const char* unaryOpName(UnaryOp op);
const char* binaryOpName(BinaryOp op);

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;

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
};

}  // namespace raven
