// Losses on Variables (mean reduction, as PyTorch's defaults).
#include "autograd/Ops.h"

#include "base/Error.h"

namespace raven {

Variable crossEntropy(const Variable& logits, const Tensor& targets, float labelSmoothing) {
    const Tensor perSample = crossEntropyPerSample(logits.tensor(), targets, labelSmoothing);
    const int64_t n = logits.size(0);
    return makeResult(
        raven::mean(perSample), {logits}, "crossEntropy",
        [x = logits.tensor(), targets, labelSmoothing, n](const Tensor& g, const std::vector<bool>&) {
            // dL/dloss_n = g / N for every sample, built on the backend (g stays there).
            const Tensor perSampleGrad = mulScalar(g.reshape({1}).expand({n}), 1.0f / static_cast<float>(n));
            return std::vector<Tensor>{x.backend().crossEntropyBackward(x, targets, perSampleGrad, labelSmoothing)};
        });
}

Variable mse(const Variable& prediction, const Variable& target) {
    RAVEN_CHECK(prediction.shape() == target.shape(),
                "mse: prediction " + shapeToString(prediction.shape()) + " and target " +
                    shapeToString(target.shape()) + " differ",
                "the prediction and the target must have the same shape");
    const Variable diff = sub(prediction, target);
    return mean(mul(diff, diff));
}

}  // namespace raven
