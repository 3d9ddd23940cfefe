#include "nn/GradClip.h"

#include "base/Error.h"
#include "tensor/TensorOps.h"

namespace raven::nn {

Tensor clipGradNorm(std::vector<Tensor>& grads, double maxNorm) {
    RAVEN_CHECK(maxNorm > 0.0, "gradient clipping: max_norm " + std::to_string(maxNorm) + " is not positive",
                "use a positive norm, e.g. 1.0");
    Tensor squares;
    for (const Tensor& g : grads) {
        if (!g.defined()) continue;
        const Tensor s = sum(mul(g, g));
        squares = squares.defined() ? add(squares, s) : s;
    }
    if (!squares.defined()) return {};
    const Tensor total = sqrt(squares);
    Backend& backend = total.backend();
    // min(1, max_norm / (total + 1e-6)), as a one-element tensor.
    const Tensor scale =
        minimum(div(full({}, static_cast<float>(maxNorm), backend), addScalar(total, 1e-6f)), full({}, 1.0f, backend));
    for (Tensor& g : grads)
        if (g.defined()) g = mul(g, scale);
    return total;
}

}  // namespace raven::nn
