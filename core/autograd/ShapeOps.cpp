// Shape ops on Variables: views forward, the inverse view (or a scatter into zeros) backward.
#include "autograd/Ops.h"

#include "base/Error.h"
#include "tensor/Backend.h"

namespace raven {

namespace {
using Grads = std::vector<Tensor>;
}

Variable reshape(const Variable& x, const Shape& shape) {
    return makeResult(x.tensor().reshape(shape), {x}, "reshape",
                      [in = x.shape()](const Tensor& g, const std::vector<bool>&) { return Grads{g.reshape(in)}; });
}

Variable flatten(const Variable& x, int64_t startAxis, int64_t endAxis) {
    return makeResult(x.tensor().flatten(startAxis, endAxis), {x}, "flatten",
                      [in = x.shape()](const Tensor& g, const std::vector<bool>&) { return Grads{g.reshape(in)}; });
}

Variable transpose(const Variable& x, int64_t axis0, int64_t axis1) {
    return makeResult(
        x.tensor().transpose(axis0, axis1), {x}, "transpose",
        [axis0, axis1](const Tensor& g, const std::vector<bool>&) { return Grads{g.transpose(axis0, axis1)}; });
}

Variable permute(const Variable& x, const std::vector<int64_t>& order) {
    Tensor out = x.tensor().permute(order);
    std::vector<int64_t> inverse(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
        inverse[static_cast<size_t>(normalizeAxis(order[i], x.dim(), "permute", x.shape()))] = static_cast<int64_t>(i);
    }
    return makeResult(out, {x}, "permute",
                      [inverse](const Tensor& g, const std::vector<bool>&) { return Grads{g.permute(inverse)}; });
}

Variable narrow(const Variable& x, int64_t axis, int64_t start, int64_t length) {
    Tensor out = x.tensor().narrow(axis, start, length);
    const int a = normalizeAxis(axis, x.dim(), "narrow", x.shape());
    const int64_t from = start < 0 ? start + x.size(a) : start;
    return makeResult(out, {x}, "narrow", [in = x.shape(), a, from, length](const Tensor& g, const std::vector<bool>&) {
        Backend& backend = g.backend();
        Tensor grad = backend.fill(in, 0.0f);
        if (length > 0) backend.copyInto(grad.narrow(a, from, length), g);
        return Grads{grad};
    });
}

Variable concat(const std::vector<Variable>& parts, int64_t axis) {
    std::vector<Tensor> tensors;
    for (const Variable& p : parts) tensors.push_back(p.tensor());
    Tensor out = raven::concat(tensors, axis);
    const int a = normalizeAxis(axis, out.dim(), "concat", out.shape());
    std::vector<int64_t> sizes;
    for (const Variable& p : parts) sizes.push_back(p.size(a));
    return makeResult(out, parts, "concat", [a, sizes](const Tensor& g, const std::vector<bool>& needs) {
        Grads grads(sizes.size());
        int64_t start = 0;
        for (size_t i = 0; i < sizes.size(); ++i) {
            if (needs[i]) grads[i] = g.narrow(a, start, sizes[i]);
            start += sizes[i];
        }
        return grads;
    });
}

Variable expand(const Variable& x, const Shape& shape) {
    return makeResult(x.tensor().expand(shape), {x}, "expand",
                      [in = x.shape()](const Tensor& g, const std::vector<bool>&) { return Grads{sumToShape(g, in)}; });
}

Variable unsqueeze(const Variable& x, int64_t axis) {
    return makeResult(x.tensor().unsqueeze(axis), {x}, "unsqueeze",
                      [in = x.shape()](const Tensor& g, const std::vector<bool>&) { return Grads{g.reshape(in)}; });
}

Variable squeeze(const Variable& x, int64_t axis) {
    return makeResult(x.tensor().squeeze(axis), {x}, "squeeze",
                      [in = x.shape()](const Tensor& g, const std::vector<bool>&) { return Grads{g.reshape(in)}; });
}

}  // namespace raven
