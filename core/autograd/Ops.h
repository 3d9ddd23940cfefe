#pragma once
// Differentiable ops on Variables. Each computes its value through the backend (tensor/TensorOps.h,
// with the same shape checks and raven::Error messages) and records a backward function that
// computes the input gradients through the backend too (see Variable.h for the graph model).
//
// Conventions (PyTorch's): broadcasting follows NumPy and the gradient of a broadcast input is
// summed back to its shape; negative axes count from the end; an empty axes list means all axes;
// `linear` takes weight [out, in]; losses reduce by the mean.
//
// What each op keeps for its backward pass: add/sub/neg/sum/mean/reshape/transpose/permute/narrow/
// concat keep only shapes; mul keeps the other operand; div keeps the divisor and the result;
// exp/sqrt/tanh/sigmoid/relu/softmax/logSoftmax keep their result; log/pow/gelu keep their input;
// max keeps input and result; matmul/linear keep the operands whose partner needs a gradient;
// crossEntropy keeps logits and targets.
#include <vector>

#include "autograd/Variable.h"
#include "tensor/TensorOps.h"

namespace raven {

// --- linear algebra ---
// a [..., M, K] x b [..., K, N], batch dimensions broadcast; both of rank >= 2.
Variable matmul(const Variable& a, const Variable& b);
// x [..., in] -> x W^T + bias: weight [out, in], bias [out] (or an undefined Variable for none).
Variable linear(const Variable& x, const Variable& weight, const Variable& bias = Variable());

// --- elementwise, broadcasting ---
Variable add(const Variable& a, const Variable& b);
Variable sub(const Variable& a, const Variable& b);
Variable mul(const Variable& a, const Variable& b);
Variable div(const Variable& a, const Variable& b);
Variable add(const Variable& x, float s);
Variable mul(const Variable& x, float s);
Variable neg(const Variable& x);
Variable exp(const Variable& x);
Variable log(const Variable& x);
Variable sqrt(const Variable& x);
Variable pow(const Variable& x, float exponent);

Variable operator+(const Variable& a, const Variable& b);
Variable operator-(const Variable& a, const Variable& b);
Variable operator*(const Variable& a, const Variable& b);
Variable operator/(const Variable& a, const Variable& b);
Variable operator-(const Variable& x);
Variable operator+(const Variable& x, float s);
Variable operator+(float s, const Variable& x);
Variable operator-(const Variable& x, float s);
Variable operator-(float s, const Variable& x);
Variable operator*(const Variable& x, float s);
Variable operator*(float s, const Variable& x);
Variable operator/(const Variable& x, float s);

// --- activations ---
Variable relu(const Variable& x);
Variable gelu(const Variable& x, GeluApproximation approximation = GeluApproximation::None);
Variable tanh(const Variable& x);
Variable sigmoid(const Variable& x);
Variable softmax(const Variable& x, int64_t axis = -1);
Variable logSoftmax(const Variable& x, int64_t axis = -1);

// --- reductions (empty axes = all) ---
Variable sum(const Variable& x, const std::vector<int64_t>& axes = {}, bool keepDim = false);
Variable mean(const Variable& x, const std::vector<int64_t>& axes = {}, bool keepDim = false);
// Gradient shared equally among tied maxima (PyTorch's amax).
Variable max(const Variable& x, const std::vector<int64_t>& axes = {}, bool keepDim = false);

// --- losses (mean reduction) ---
// logits [N, C], targets [N] of class indices (floats holding integers, no gradient), PyTorch's
// F.cross_entropy(logits, targets, label_smoothing=labelSmoothing).
Variable crossEntropy(const Variable& logits, const Tensor& targets, float labelSmoothing = 0.0f);
// mean((prediction - target)^2); the shapes must be equal.
Variable mse(const Variable& prediction, const Variable& target);

// --- shape ---
Variable reshape(const Variable& x, const Shape& shape);
Variable flatten(const Variable& x, int64_t startAxis = 0, int64_t endAxis = -1);
Variable transpose(const Variable& x, int64_t axis0, int64_t axis1);
Variable permute(const Variable& x, const std::vector<int64_t>& order);
Variable narrow(const Variable& x, int64_t axis, int64_t start, int64_t length);
Variable concat(const std::vector<Variable>& parts, int64_t axis);
Variable expand(const Variable& x, const Shape& shape);
Variable unsqueeze(const Variable& x, int64_t axis);
Variable squeeze(const Variable& x, int64_t axis);

}  // namespace raven
