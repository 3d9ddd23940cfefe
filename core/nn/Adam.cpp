// torch.optim.Adam and AdamW, step for one parameter (PyTorch 1.13, amsgrad off):
//   Adam:  g = grad + weight_decay * p            AdamW: p = p * (1 - lr * weight_decay), g = grad
//   exp_avg    = beta1 * exp_avg    + (1 - beta1) * g
//   exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
//   denom = sqrt(exp_avg_sq) / sqrt(1 - beta2^t) + eps      (eps outside the square root, after correction)
//   p = p - lr / (1 - beta1^t) * exp_avg / denom
// t is the step count after this step (1 on the first step); both moments start at zero.
// The step is one Backend::adamUpdate per parameter: one fused kernel on Vulkan and on the CPU, the
// composed elementwise kernels on any other backend (tensor/Backend.h spells out the float operations).
#include <cmath>

#include "nn/Optimizer.h"
#include "nn/OptimizerKinds.h"
#include "tensor/Backend.h"

namespace raven::nn {

namespace {
class Adam final : public Optimizer {
public:
    Adam(OptimizerConfig config, std::vector<std::string> names) : Optimizer(config, std::move(names)) {}

protected:
    std::vector<std::string> slotNames() const override { return {"exp_avg", "exp_avg_sq"}; }

    Tensor update(std::size_t i, const Tensor& param, const Tensor& grad) override {
        const AdamStepScalars s = scalars();
        auto& paramSlots = slots_[i];
        const auto m = paramSlots.find("exp_avg");
        const auto v = paramSlots.find("exp_avg_sq");
        const Tensor expAvg = m == paramSlots.end() ? Tensor() : m->second;
        const Tensor expAvgSq = v == paramSlots.end() ? Tensor() : v->second;
        const AdamUpdate r = param.backend().adamUpdate(param, grad, expAvg, expAvgSq, s);
        paramSlots["exp_avg"] = r.expAvg;
        paramSlots["exp_avg_sq"] = r.expAvgSq;
        return r.param;
    }

    // The step's scalars in double, rounded once (1 - 0.999f in float is off by 5e-5 relative).
    AdamStepScalars scalars() const {
        const auto& c = config_;
        AdamStepScalars s;
        s.beta1 = static_cast<float>(c.beta1);
        s.beta2 = static_cast<float>(c.beta2);
        s.oneMinusBeta1 = static_cast<float>(1.0 - c.beta1);
        s.oneMinusBeta2 = static_cast<float>(1.0 - c.beta2);
        const double t = static_cast<double>(steps_);
        s.invSqrtCorrection2 = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(c.beta2, t)));
        s.eps = static_cast<float>(c.eps);
        s.stepSize = static_cast<float>(c.lr / (1.0 - std::pow(c.beta1, t)));
        if (c.weightDecay != 0.0) {
            if (c.kind == OptimizerKind::AdamW)
                s.decayFactor = static_cast<float>(1.0 - c.lr * c.weightDecay);
            else
                s.weightDecay = static_cast<float>(c.weightDecay);
        }
        return s;
    }
};
}  // namespace

std::unique_ptr<Optimizer> makeAdam(const OptimizerConfig& config, std::vector<std::string> names) {
    return std::make_unique<Adam>(config, std::move(names));
}

std::unique_ptr<Optimizer> makeOptimizer(const OptimizerConfig& config, std::vector<std::string> names) {
    if (config.kind == OptimizerKind::Sgd) return makeSgd(config, std::move(names));
    return makeAdam(config, std::move(names));
}

}  // namespace raven::nn
