// torch.optim.SGD, step for one parameter (PyTorch 1.13, foreach off):
//   g = grad + weight_decay * p
//   momentum_buffer = g                                   (first step)
//                   = momentum * buf + (1 - dampening) g  (later steps)
//   g = g + momentum * buf  (Nesterov)  or  buf  (plain momentum)
//   p = p - lr * g
// The step is one Backend::sgdUpdate per parameter (one fused kernel where the backend has one).
#include "nn/Optimizer.h"
#include "nn/OptimizerKinds.h"
#include "tensor/Backend.h"

namespace raven::nn {

namespace {
class Sgd final : public Optimizer {
public:
    Sgd(OptimizerConfig config, std::vector<std::string> names) : Optimizer(config, std::move(names)) {}

protected:
    std::vector<std::string> slotNames() const override { return {"momentum_buffer"}; }

    Tensor update(std::size_t i, const Tensor& param, const Tensor& grad) override {
        const auto& c = config_;
        SgdStepScalars s;
        s.lr = static_cast<float>(c.lr);
        s.weightDecay = static_cast<float>(c.weightDecay);
        s.momentum = static_cast<float>(c.momentum);
        s.oneMinusDampening = static_cast<float>(1.0 - c.dampening);
        s.nesterov = c.nesterov;
        auto& paramSlots = slots_[i];
        const auto it = paramSlots.find("momentum_buffer");
        const SgdUpdate r = param.backend().sgdUpdate(param, grad, it == paramSlots.end() ? Tensor() : it->second, s);
        if (r.momentumBuffer.defined()) paramSlots["momentum_buffer"] = r.momentumBuffer;
        return r.param;
    }
};
}  // namespace

std::unique_ptr<Optimizer> makeSgd(const OptimizerConfig& config, std::vector<std::string> names) {
    return std::make_unique<Sgd>(config, std::move(names));
}

}  // namespace raven::nn
