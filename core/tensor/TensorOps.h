#pragma once
// Arithmetic on Tensors, without gradients: the checked, broadcasting layer over Backend kernels.
//
// Every function here checks shapes (naming both in the raven::Error), applies NumPy broadcasting
// by expanding inputs to stride-0 views, picks the backend of its inputs (all inputs must be on the
// same one) and calls a kernel. Nothing reads values on the host. autograd/ builds on these; so can
// optimizers and layers that need no gradient.
//
//   Tensor y = add(matmul(x, w), b);   // x [B,K], w [K,N], b [N]
//   Tensor s = sum(y, {0}, false);      // [N]
#include <vector>

#include "tensor/Backend.h"
#include "tensor/Tensor.h"

namespace raven {

// --- elementwise with broadcasting ---
Tensor binaryOp(BinaryOp op, const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

Tensor unaryOp(UnaryOp op, const Tensor& x);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
enum class GeluApproximation { None, Tanh };  // None = exact erf form (PyTorch's default)
Tensor gelu(const Tensor& x, GeluApproximation approximation = GeluApproximation::None);

Tensor addScalar(const Tensor& x, float s);
Tensor mulScalar(const Tensor& x, float s);
Tensor powScalar(const Tensor& x, float exponent);

// --- reductions; empty `axes` = all axes; negative axes count from the end ---
Tensor sum(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepDim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepDim = false);
Tensor max(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepDim = false);
// Sums g over the dimensions that broadcasting added to reach g's shape, giving `shape`
// (the gradient of a broadcast). Throws if `shape` does not broadcast to g's shape.
Tensor sumToShape(const Tensor& g, const Shape& shape);

// --- linear algebra ---
// a [..., M, K] x b [..., K, N] with batch dimensions broadcast (both of rank >= 2).
// Throws "matmul: [3,4] x [5,6]: inner dimensions 4 and 5 differ".
Tensor matmul(const Tensor& a, const Tensor& b);
// x [..., in] W^T + bias: weight [out, in] (PyTorch layout), bias [out] or undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});

// --- along an axis ---
Tensor softmax(const Tensor& x, int64_t axis = -1);
Tensor logSoftmax(const Tensor& x, int64_t axis = -1);
// Tensors of equal shapes except along `axis`, joined along it.
Tensor concat(const std::vector<Tensor>& parts, int64_t axis);

// Per-sample cross-entropy [N] from logits [N, C] and class indices [N] (see Backend::crossEntropy).
Tensor crossEntropyPerSample(const Tensor& logits, const Tensor& targets, float labelSmoothing = 0.0f);

// Checks that every defined tensor lives on the same backend; returns it. `op` names the caller.
Backend& commonBackend(const std::vector<const Tensor*>& tensors, const char* op);

}  // namespace raven
