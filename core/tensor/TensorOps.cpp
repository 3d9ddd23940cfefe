#include "tensor/TensorOps.h"

#include "base/Error.h"

namespace raven {

Backend& commonBackend(const std::vector<const Tensor*>& tensors, const char* op) {
    Backend* backend = nullptr;
    for (const Tensor* t : tensors) {
        if (!t->defined()) continue;
        if (!backend) {
            backend = &t->backend();
        } else if (backend != &t->backend()) {
            fail(std::string(op) + ": inputs live on different backends (" + backend->name() + " and " +
                     t->backend().name() + ")",
                 "move all inputs to one backend first");
        }
    }
    RAVEN_CHECK(backend != nullptr, std::string(op) + ": every input is undefined", "create the tensors first");
    return *backend;
}

Tensor binaryOp(BinaryOp op, const Tensor& a, const Tensor& b) {
    Backend& backend = commonBackend({&a, &b}, binaryOpName(op));
    if (a.shape() == b.shape()) return backend.binary(op, a, b);
    const Shape shape = broadcastShapes(a.shape(), b.shape(), binaryOpName(op));
    return backend.binary(op, a.expand(shape), b.expand(shape));
}

Tensor add(const Tensor& a, const Tensor& b) { return binaryOp(BinaryOp::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binaryOp(BinaryOp::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binaryOp(BinaryOp::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binaryOp(BinaryOp::Div, a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binaryOp(BinaryOp::Maximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binaryOp(BinaryOp::Minimum, a, b); }

Tensor unaryOp(UnaryOp op, const Tensor& x) { return commonBackend({&x}, unaryOpName(op)).unary(op, x); }

Tensor neg(const Tensor& x) { return unaryOp(UnaryOp::Neg, x); }
Tensor exp(const Tensor& x) { return unaryOp(UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unaryOp(UnaryOp::Log, x); }
Tensor sqrt(const Tensor& x) { return unaryOp(UnaryOp::Sqrt, x); }
Tensor abs(const Tensor& x) { return unaryOp(UnaryOp::Abs, x); }
Tensor tanh(const Tensor& x) { return unaryOp(UnaryOp::Tanh, x); }
Tensor sigmoid(const Tensor& x) { return unaryOp(UnaryOp::Sigmoid, x); }
Tensor relu(const Tensor& x) { return unaryOp(UnaryOp::Relu, x); }
Tensor gelu(const Tensor& x, GeluApproximation approximation) {
    return unaryOp(approximation == GeluApproximation::Tanh ? UnaryOp::GeluTanh : UnaryOp::GeluErf, x);
}

Tensor addScalar(const Tensor& x, float s) { return commonBackend({&x}, "addScalar").scalar(ScalarOp::Add, x, s); }
Tensor mulScalar(const Tensor& x, float s) { return commonBackend({&x}, "mulScalar").scalar(ScalarOp::Mul, x, s); }
Tensor powScalar(const Tensor& x, float exponent) {
    return commonBackend({&x}, "pow").scalar(ScalarOp::Pow, x, exponent);
}

namespace {
Tensor reduceAxes(ReduceOp op, const Tensor& x, const std::vector<int64_t>& axes, bool keepDim, const char* name) {
    Backend& backend = commonBackend({&x}, name);
    if (x.dim() == 0) return x.clone();  // a scalar reduced over "all" of its zero axes
    const std::vector<int> normalized = normalizeAxes(axes, x.dim(), name, x.shape());
    if (op == ReduceOp::Max) {
        for (int a : normalized) {
            RAVEN_CHECK(
                x.shape()[static_cast<size_t>(a)] > 0,
                std::string(name) + ": axis " + std::to_string(a) + " of " + shapeToString(x.shape()) + " is empty",
                "the maximum of no elements is undefined");
        }
    }
    return backend.reduce(op, x, normalized, keepDim);
}
}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& axes, bool keepDim) {
    return reduceAxes(ReduceOp::Sum, x, axes, keepDim, "sum");
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& axes, bool keepDim) {
    Tensor s = sum(x, axes, keepDim);
    const int64_t count = s.numel() == 0 ? 0 : x.numel() / s.numel();
    return mulScalar(s, 1.0f / static_cast<float>(count));
}

Tensor max(const Tensor& x, const std::vector<int64_t>& axes, bool keepDim) {
    return reduceAxes(ReduceOp::Max, x, axes, keepDim, "max");
}

Tensor sumToShape(const Tensor& g, const Shape& shape) {
    if (g.shape() == shape) return g;
    RAVEN_CHECK(isBroadcastableTo(shape, g.shape()),
                "sumToShape: " + shapeToString(shape) + " does not broadcast to " + shapeToString(g.shape()), "");
    const size_t lead = g.shape().size() - shape.size();
    std::vector<int64_t> axes;
    for (size_t i = 0; i < g.shape().size(); ++i) {
        if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) axes.push_back(static_cast<int64_t>(i));
    }
    if (axes.empty()) return g.reshape(shape);
    return sum(g, axes, false).reshape(shape);
}

Tensor matmul(const Tensor& a, const Tensor& b) {
    Backend& backend = commonBackend({&a, &b}, "matmul");
    RAVEN_CHECK(a.dim() >= 2 && b.dim() >= 2,
                "matmul: " + shapeToString(a.shape()) + " x " + shapeToString(b.shape()) +
                    ": both operands need at least 2 dimensions",
                "unsqueeze a vector into a [1, n] or [n, 1] matrix");
    const int64_t k = a.size(-1);
    if (k != b.size(-2)) {
        fail("matmul: " + shapeToString(a.shape()) + " x " + shapeToString(b.shape()) + ": inner dimensions " +
                 std::to_string(k) + " and " + std::to_string(b.size(-2)) + " differ",
             "the last size of the left operand must equal the second-to-last of the right");
    }
    const Shape batchA(a.shape().begin(), a.shape().end() - 2);
    const Shape batchB(b.shape().begin(), b.shape().end() - 2);
    Shape batch;
    try {
        batch = broadcastShapes(batchA, batchB, "matmul");
    } catch (const Error&) {
        fail("matmul: " + shapeToString(a.shape()) + " x " + shapeToString(b.shape()) +
                 ": batch dimensions cannot be broadcast",
             "batch sizes must be equal or 1 (aligned at the last batch dimension)");
    }
    Shape shapeA = batch, shapeB = batch;
    shapeA.insert(shapeA.end(), {a.size(-2), k});
    shapeB.insert(shapeB.end(), {k, b.size(-1)});
    return backend.matmul(a.expand(shapeA), b.expand(shapeB), Tensor());
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    Backend& backend = commonBackend({&x, &weight, &bias}, "linear");
    RAVEN_CHECK(weight.dim() == 2, "linear: weight " + shapeToString(weight.shape()) + " is not [out, in]", "");
    RAVEN_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1),
                "linear: input " + shapeToString(x.shape()) + " and weight " + shapeToString(weight.shape()) +
                    ": input features " + (x.dim() ? std::to_string(x.size(-1)) : std::string("(none)")) +
                    " and weight in-features " + std::to_string(weight.size(1)) + " differ",
                "the weight has PyTorch's layout [out, in]");
    if (bias.defined()) {
        RAVEN_CHECK(
            bias.shape() == Shape{weight.size(0)},
            "linear: bias " + shapeToString(bias.shape()) + " does not match weight " + shapeToString(weight.shape()),
            "the bias has one value per output feature");
    }
    // Rows of x become one [rows, in] matrix: one GEMM instead of a batch of small ones.
    Shape outShape = x.shape();
    outShape.back() = weight.size(0);
    const Tensor x2 = x.reshape({-1, weight.size(1)});
    return backend.matmul(x2, weight.transpose(0, 1), bias).view(outShape);
}

Tensor softmax(const Tensor& x, int64_t axis) {
    Backend& backend = commonBackend({&x}, "softmax");
    const int a = normalizeAxis(axis, x.dim(), "softmax", x.shape());
    if (a == x.dim() - 1) return backend.softmax(x);
    return backend.softmax(x.transpose(a, -1)).transpose(a, -1);
}

Tensor logSoftmax(const Tensor& x, int64_t axis) {
    Backend& backend = commonBackend({&x}, "logSoftmax");
    const int a = normalizeAxis(axis, x.dim(), "logSoftmax", x.shape());
    if (a == x.dim() - 1) return backend.logSoftmax(x);
    return backend.logSoftmax(x.transpose(a, -1)).transpose(a, -1);
}

Tensor concat(const std::vector<Tensor>& parts, int64_t axis) {
    RAVEN_CHECK(!parts.empty(), "concat: no tensors to join", "pass at least one tensor");
    std::vector<const Tensor*> pointers;
    for (const Tensor& p : parts) pointers.push_back(&p);
    Backend& backend = commonBackend(pointers, "concat");
    const Shape& first = parts[0].shape();
    const auto a = static_cast<size_t>(normalizeAxis(axis, parts[0].dim(), "concat", first));
    Shape out = first;
    out[a] = 0;
    for (const Tensor& p : parts) {
        bool same = p.dim() == parts[0].dim();
        for (size_t i = 0; same && i < first.size(); ++i) same = i == a || p.shape()[i] == first[i];
        RAVEN_CHECK(same,
                    "concat: " + shapeToString(first) + " and " + shapeToString(p.shape()) + " differ outside axis " +
                        std::to_string(axis),
                    "all parts must have equal sizes except along the joining axis");
        out[a] += p.shape()[a];
    }
    Tensor result = backend.fill(out, 0.0f);
    int64_t start = 0;
    for (const Tensor& p : parts) {
        if (p.shape()[a] > 0) backend.copyInto(result.narrow(static_cast<int64_t>(a), start, p.shape()[a]), p);
        start += p.shape()[a];
    }
    return result;
}

Tensor crossEntropyPerSample(const Tensor& logits, const Tensor& targets, float labelSmoothing) {
    Backend& backend = commonBackend({&logits, &targets}, "crossEntropy");
    RAVEN_CHECK(logits.dim() == 2, "crossEntropy: logits " + shapeToString(logits.shape()) + " are not [N, C]",
                "flatten the leading dimensions into N first");
    RAVEN_CHECK(targets.shape() == Shape{logits.size(0)},
                "crossEntropy: logits " + shapeToString(logits.shape()) + " and targets " +
                    shapeToString(targets.shape()) + ": need one class index per row",
                "targets must be [N] for logits [N, C]");
    RAVEN_CHECK(labelSmoothing >= 0.0f && labelSmoothing <= 1.0f,
                "crossEntropy: label smoothing " + std::to_string(labelSmoothing) + " is outside [0, 1]", "");
    return backend.crossEntropy(logits, targets, labelSmoothing);
}

const char* unaryOpName(UnaryOp op) {
    switch (op) {
        case UnaryOp::Neg:
            return "neg";
        case UnaryOp::Exp:
            return "exp";
        case UnaryOp::Log:
            return "log";
        case UnaryOp::Sqrt:
            return "sqrt";
        case UnaryOp::Abs:
            return "abs";
        case UnaryOp::Tanh:
            return "tanh";
        case UnaryOp::Sigmoid:
            return "sigmoid";
        case UnaryOp::Relu:
            return "relu";
        case UnaryOp::GeluTanh:
            return "gelu(tanh)";
        case UnaryOp::GeluErf:
            return "gelu";
    }
    return "?";
}

const char* binaryOpName(BinaryOp op) {
    switch (op) {
        case BinaryOp::Add:
            return "add";
        case BinaryOp::Sub:
            return "sub";
        case BinaryOp::Mul:
            return "mul";
        case BinaryOp::Div:
            return "div";
        case BinaryOp::Maximum:
            return "maximum";
        case BinaryOp::Minimum:
            return "minimum";
        case BinaryOp::Equal:
            return "equal";
        case BinaryOp::ReluBackward:
            return "reluBackward";
        case BinaryOp::TanhBackward:
            return "tanhBackward";
        case BinaryOp::SigmoidBackward:
            return "sigmoidBackward";
        case BinaryOp::GeluTanhBackward:
            return "geluTanhBackward";
        case BinaryOp::GeluErfBackward:
            return "geluErfBackward";
    }
    return "?";
}

}  // namespace raven
