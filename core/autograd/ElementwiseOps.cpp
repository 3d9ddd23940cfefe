// Elementwise ops and activations on Variables.
#include "autograd/Ops.h"

namespace raven {

namespace {
using Grads = std::vector<Tensor>;
}  // namespace

Variable add(const Variable& a, const Variable& b) {
    return makeResult(
        raven::add(a.tensor(), b.tensor()), {a, b}, "add",
        [sa = a.shape(), sb = b.shape()](const Tensor& g, const std::vector<bool>& needs) {
            return Grads{needs[0] ? sumToShape(g, sa) : Tensor(), needs[1] ? sumToShape(g, sb) : Tensor()};
        });
}

Variable sub(const Variable& a, const Variable& b) {
    return makeResult(
        raven::sub(a.tensor(), b.tensor()), {a, b}, "sub",
        [sa = a.shape(), sb = b.shape()](const Tensor& g, const std::vector<bool>& needs) {
            return Grads{needs[0] ? sumToShape(g, sa) : Tensor(), needs[1] ? neg(sumToShape(g, sb)) : Tensor()};
        });
}

Variable mul(const Variable& a, const Variable& b) {
    // Each side's gradient needs the other operand only.
    const Tensor keepA = b.requiresGrad() ? a.tensor() : Tensor();
    const Tensor keepB = a.requiresGrad() ? b.tensor() : Tensor();
    return makeResult(raven::mul(a.tensor(), b.tensor()), {a, b}, "mul",
                      [keepA, keepB, sa = a.shape(), sb = b.shape()](const Tensor& g, const std::vector<bool>& needs) {
                          return Grads{needs[0] ? sumToShape(raven::mul(g, keepB), sa) : Tensor(),
                                       needs[1] ? sumToShape(raven::mul(g, keepA), sb) : Tensor()};
                      });
}

Variable div(const Variable& a, const Variable& b) {
    Tensor out = raven::div(a.tensor(), b.tensor());
    return makeResult(out, {a, b}, "div",
                      [out, denominator = b.tensor(), sa = a.shape(), sb = b.shape()](const Tensor& g,
                                                                                      const std::vector<bool>& needs) {
                          const Tensor gOverB = raven::div(g, denominator);
                          // d(a/b)/db = -a/b^2 = -(a/b)/b
                          return Grads{needs[0] ? sumToShape(gOverB, sa) : Tensor(),
                                       needs[1] ? neg(sumToShape(raven::mul(gOverB, out), sb)) : Tensor()};
                      });
}

Variable add(const Variable& x, float s) {
    return makeResult(addScalar(x.tensor(), s), {x}, "add",
                      [](const Tensor& g, const std::vector<bool>&) { return Grads{g}; });
}

Variable mul(const Variable& x, float s) {
    return makeResult(mulScalar(x.tensor(), s), {x}, "mul",
                      [s](const Tensor& g, const std::vector<bool>&) { return Grads{mulScalar(g, s)}; });
}

Variable neg(const Variable& x) {
    return makeResult(raven::neg(x.tensor()), {x}, "neg",
                      [](const Tensor& g, const std::vector<bool>&) { return Grads{raven::neg(g)}; });
}

Variable exp(const Variable& x) {
    Tensor out = raven::exp(x.tensor());
    return makeResult(out, {x}, "exp",
                      [out](const Tensor& g, const std::vector<bool>&) { return Grads{raven::mul(g, out)}; });
}

Variable log(const Variable& x) {
    return makeResult(raven::log(x.tensor()), {x}, "log", [in = x.tensor()](const Tensor& g, const std::vector<bool>&) {
        return Grads{raven::div(g, in)};
    });
}

Variable sqrt(const Variable& x) {
    Tensor out = raven::sqrt(x.tensor());
    return makeResult(out, {x}, "sqrt", [out](const Tensor& g, const std::vector<bool>&) {
        return Grads{raven::div(mulScalar(g, 0.5f), out)};
    });
}

Variable pow(const Variable& x, float exponent) {
    return makeResult(powScalar(x.tensor(), exponent), {x}, "pow",
                      [in = x.tensor(), exponent](const Tensor& g, const std::vector<bool>&) {
                          if (exponent == 0.0f) return Grads{mulScalar(g, 0.0f)};
                          const Tensor d = mulScalar(powScalar(in, exponent - 1.0f), exponent);
                          return Grads{raven::mul(g, d)};
                      });
}

Variable operator+(const Variable& a, const Variable& b) { return add(a, b); }
Variable operator-(const Variable& a, const Variable& b) { return sub(a, b); }
Variable operator*(const Variable& a, const Variable& b) { return mul(a, b); }
Variable operator/(const Variable& a, const Variable& b) { return div(a, b); }
Variable operator-(const Variable& x) { return neg(x); }
Variable operator+(const Variable& x, float s) { return add(x, s); }
Variable operator+(float s, const Variable& x) { return add(x, s); }
Variable operator-(const Variable& x, float s) { return add(x, -s); }
Variable operator-(float s, const Variable& x) { return add(neg(x), s); }
Variable operator*(const Variable& x, float s) { return mul(x, s); }
Variable operator*(float s, const Variable& x) { return mul(x, s); }
Variable operator/(const Variable& x, float s) { return mul(x, 1.0f / s); }

Variable relu(const Variable& x) {
    Tensor out = raven::relu(x.tensor());
    // relu(x) > 0 exactly where x > 0, so the result serves as the mask.
    return makeResult(out, {x}, "relu", [out](const Tensor& g, const std::vector<bool>&) {
        return Grads{binaryOp(BinaryOp::ReluBackward, g, out)};
    });
}

Variable gelu(const Variable& x, GeluApproximation approximation) {
    const BinaryOp backwardOp =
        approximation == GeluApproximation::Tanh ? BinaryOp::GeluTanhBackward : BinaryOp::GeluErfBackward;
    return makeResult(raven::gelu(x.tensor(), approximation), {x}, "gelu",
                      [in = x.tensor(), backwardOp](const Tensor& g, const std::vector<bool>&) {
                          return Grads{binaryOp(backwardOp, g, in)};
                      });
}

Variable tanh(const Variable& x) {
    Tensor out = raven::tanh(x.tensor());
    return makeResult(out, {x}, "tanh", [out](const Tensor& g, const std::vector<bool>&) {
        return Grads{binaryOp(BinaryOp::TanhBackward, g, out)};
    });
}

Variable sigmoid(const Variable& x) {
    Tensor out = raven::sigmoid(x.tensor());
    return makeResult(out, {x}, "sigmoid", [out](const Tensor& g, const std::vector<bool>&) {
        return Grads{binaryOp(BinaryOp::SigmoidBackward, g, out)};
    });
}

namespace {
// Runs a last-axis backward kernel for a softmax taken along `axis`.
Tensor alongAxis(const Tensor& y, const Tensor& g, int axis, Tensor (Backend::*kernel)(const Tensor&, const Tensor&)) {
    Backend& backend = y.backend();
    if (axis == y.dim() - 1) return (backend.*kernel)(y, g);
    return (backend.*kernel)(y.transpose(axis, -1), g.transpose(axis, -1)).transpose(axis, -1);
}
}  // namespace

Variable softmax(const Variable& x, int64_t axis) {
    Tensor out = raven::softmax(x.tensor(), axis);
    const int a = normalizeAxis(axis, x.dim(), "softmax", x.shape());
    return makeResult(out, {x}, "softmax", [out, a](const Tensor& g, const std::vector<bool>&) {
        return Grads{alongAxis(out, g, a, &Backend::softmaxBackward)};
    });
}

Variable logSoftmax(const Variable& x, int64_t axis) {
    Tensor out = raven::logSoftmax(x.tensor(), axis);
    const int a = normalizeAxis(axis, x.dim(), "logSoftmax", x.shape());
    return makeResult(out, {x}, "logSoftmax", [out, a](const Tensor& g, const std::vector<bool>&) {
        return Grads{alongAxis(out, g, a, &Backend::logSoftmaxBackward)};
    });
}

}  // namespace raven
