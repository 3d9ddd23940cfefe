// Reductions on Variables: the gradient of a reduced axis is the upstream gradient broadcast back
// (a stride-0 view: nothing is copied until a kernel needs it).
#include "autograd/Ops.h"

namespace raven {

namespace {
using Grads = std::vector<Tensor>;

// The output shape with the reduced axes kept as size 1.
Shape keptShape(const Shape& in, const std::vector<int64_t>& axes, const char* op) {
    if (in.empty()) return in;
    Shape out = in;
    for (int a : normalizeAxes(axes, static_cast<int64_t>(in.size()), op, in)) out[static_cast<size_t>(a)] = 1;
    return out;
}
}  // namespace

Variable sum(const Variable& x, const std::vector<int64_t>& axes, bool keepDim) {
    const Shape kept = keptShape(x.shape(), axes, "sum");
    return makeResult(raven::sum(x.tensor(), axes, keepDim), {x}, "sum",
                      [kept, in = x.shape()](const Tensor& g, const std::vector<bool>&) {
                          return Grads{g.reshape(kept).expand(in)};
                      });
}

Variable mean(const Variable& x, const std::vector<int64_t>& axes, bool keepDim) {
    const Shape kept = keptShape(x.shape(), axes, "mean");
    const int64_t count = numelOf(kept) == 0 ? 0 : x.numel() / numelOf(kept);
    const float scale = 1.0f / static_cast<float>(count);
    return makeResult(raven::mean(x.tensor(), axes, keepDim), {x}, "mean",
                      [kept, scale, in = x.shape()](const Tensor& g, const std::vector<bool>&) {
                          return Grads{mulScalar(g, scale).reshape(kept).expand(in)};
                      });
}

Variable max(const Variable& x, const std::vector<int64_t>& axes, bool keepDim) {
    const Shape kept = keptShape(x.shape(), axes, "max");
    Tensor out = raven::max(x.tensor(), axes, keepDim);
    return makeResult(out, {x}, "max", [kept, out, in = x.tensor()](const Tensor& g, const std::vector<bool>&) {
        const Tensor mask = binaryOp(BinaryOp::Equal, in, out.reshape(kept));
        std::vector<int64_t> reducedAxes;
        for (size_t d = 0; d < kept.size(); ++d) {
            if (kept[d] == 1 && in.shape()[d] != 1) reducedAxes.push_back(static_cast<int64_t>(d));
        }
        const Tensor count = reducedAxes.empty() ? ones(kept, in.backend()) : raven::sum(mask, reducedAxes, true);
        return Grads{raven::mul(mask, raven::div(g.reshape(kept), count))};
    });
}

}  // namespace raven
