// torch.optim.Adam and AdamW, step for one parameter (PyTorch 1.13, amsgrad off):
//   Adam:  g = grad + weight_decay * p            AdamW: p = p * (1 - lr * weight_decay), g = grad
//   exp_avg    = beta1 * exp_avg    + (1 - beta1) * g
//   exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
//   denom = sqrt(exp_avg_sq) / sqrt(1 - beta2^t) + eps      (eps outside the square root, after correction)
//   p = p - lr / (1 - beta1^t) * exp_avg / denom
// t is the step count after this step (1 on the first step); both moments start at zero.
#include <cmath>

#include "cpu/CpuBackend.h"
#include "nn/Optimizer.h"
#include "nn/OptimizerKinds.h"
#include "tensor/TensorOps.h"

namespace raven::nn {

namespace {
class Adam final : public Optimizer {
public:
    Adam(OptimizerConfig config, std::vector<std::string> names) : Optimizer(config, std::move(names)) {}

protected:
    std::vector<std::string> slotNames() const override { return {"exp_avg", "exp_avg_sq"}; }

    Tensor update(std::size_t i, const Tensor& param, const Tensor& grad) override {
        // On the CPU one fused pass computes the same bits as the kernels below (a third of a small
        // model's training step otherwise). TODO(lead): a Backend virtual would let Vulkan fuse too.
        auto* cpu = dynamic_cast<CpuBackend*>(&param.backend());
        if (cpu && slots_[i].count("exp_avg") == slots_[i].count("exp_avg_sq")) return fusedUpdate(*cpu, i, param, grad);
        const auto& c = config_;
        const bool decoupled = c.kind == OptimizerKind::AdamW;
        Tensor p = param;
        Tensor g = grad;
        if (c.weightDecay != 0.0) {
            if (decoupled)
                p = mulScalar(p, static_cast<float>(1.0 - c.lr * c.weightDecay));
            else
                g = add(g, mulScalar(p, static_cast<float>(c.weightDecay)));
        }
        auto& slots = slots_[i];
        auto m = slots.find("exp_avg");
        auto v = slots.find("exp_avg_sq");
        // 1 - beta in double: 1 - 0.999f in float is off by 5e-5 relative.
        const float b1 = static_cast<float>(c.beta1), b2 = static_cast<float>(c.beta2);
        const float a1 = static_cast<float>(1.0 - c.beta1), a2 = static_cast<float>(1.0 - c.beta2);
        const Tensor expAvg = m == slots.end() ? mulScalar(g, a1) : add(mulScalar(m->second, b1), mulScalar(g, a1));
        const Tensor gg = mul(g, g);
        const Tensor expAvgSq = v == slots.end() ? mulScalar(gg, a2) : add(mulScalar(v->second, b2), mulScalar(gg, a2));
        slots["exp_avg"] = expAvg;
        slots["exp_avg_sq"] = expAvgSq;
        const double t = static_cast<double>(steps_);
        const double correction1 = 1.0 - std::pow(c.beta1, t);
        const double correction2 = 1.0 - std::pow(c.beta2, t);
        const Tensor denom = addScalar(mulScalar(sqrt(expAvgSq), static_cast<float>(1.0 / std::sqrt(correction2))),
                                       static_cast<float>(c.eps));
        const float stepSize = static_cast<float>(c.lr / correction1);
        return sub(p, mulScalar(div(expAvg, denom), stepSize));
    }

    Tensor fusedUpdate(CpuBackend& cpu, std::size_t i, const Tensor& param, const Tensor& grad) {
        const auto& c = config_;
        const bool decoupled = c.kind == OptimizerKind::AdamW;
        AdamConstants k;
        k.beta1 = static_cast<float>(c.beta1);
        k.beta2 = static_cast<float>(c.beta2);
        k.oneMinusBeta1 = static_cast<float>(1.0 - c.beta1);
        k.oneMinusBeta2 = static_cast<float>(1.0 - c.beta2);
        const double t = static_cast<double>(steps_);
        k.invSqrtCorrection2 = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(c.beta2, t)));
        k.eps = static_cast<float>(c.eps);
        k.stepSize = static_cast<float>(c.lr / (1.0 - std::pow(c.beta1, t)));
        if (c.weightDecay != 0.0) {
            if (decoupled) k.decayFactor = static_cast<float>(1.0 - c.lr * c.weightDecay);
            else k.weightDecay = static_cast<float>(c.weightDecay);
        }
        auto& slots = slots_[i];
        const auto m = slots.find("exp_avg");
        const auto v = slots.find("exp_avg_sq");
        AdamStepResult r = cpu.adamStep(param, grad, m == slots.end() ? Tensor() : m->second,
                                        v == slots.end() ? Tensor() : v->second, k);
        slots["exp_avg"] = r.expAvg;
        slots["exp_avg_sq"] = r.expAvgSq;
        return r.param;
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
