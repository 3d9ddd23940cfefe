// matmul and linear on Variables.
#include "autograd/Ops.h"

namespace raven {

namespace {
using Grads = std::vector<Tensor>;
}

Variable matmul(const Variable& a, const Variable& b) {
    const Tensor keepA = b.requiresGrad() ? a.tensor() : Tensor();
    const Tensor keepB = a.requiresGrad() ? b.tensor() : Tensor();
    return makeResult(raven::matmul(a.tensor(), b.tensor()), {a, b}, "matmul",
                      [keepA, keepB, sa = a.shape(), sb = b.shape()](const Tensor& g, const std::vector<bool>& needs) {
                          // Transposes are views: the GEMM reads them in place.
                          Tensor ga, gb;
                          if (needs[0]) ga = sumToShape(raven::matmul(g, keepB.transpose(-1, -2)), sa);
                          if (needs[1]) gb = sumToShape(raven::matmul(keepA.transpose(-1, -2), g), sb);
                          return Grads{ga, gb};
                      });
}

Variable linear(const Variable& x, const Variable& weight, const Variable& bias) {
    const Tensor keepX = weight.requiresGrad() ? x.tensor() : Tensor();
    const Tensor keepW = x.requiresGrad() ? weight.tensor() : Tensor();
    Tensor out = raven::linear(x.tensor(), weight.tensor(), bias.defined() ? bias.tensor() : Tensor());
    return makeResult(out, {x, weight, bias}, "linear",
                      [keepX, keepW, sx = x.shape()](const Tensor& g, const std::vector<bool>& needs) {
                          // All leading dimensions are rows of one matrix: three plain GEMM/reductions.
                          const int64_t outFeatures = g.size(-1);
                          const Tensor g2 = g.reshape({-1, outFeatures});
                          Tensor gx, gw, gb;
                          if (needs[0]) gx = raven::matmul(g2, keepW).view(sx);
                          if (needs[1]) gw = raven::matmul(g2.transpose(0, 1), keepX.reshape({-1, keepX.size(-1)}));
                          if (needs[2]) gb = raven::sum(g2, {0}, false);
                          return Grads{gx, gw, gb};
                      });
}

}  // namespace raven
