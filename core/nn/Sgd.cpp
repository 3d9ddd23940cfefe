// torch.optim.SGD, step for one parameter (PyTorch 1.13, foreach off):
//   g = grad + weight_decay * p
//   momentum_buffer = g                                   (first step)
//                   = momentum * buf + (1 - dampening) g  (later steps)
//   g = g + momentum * buf  (Nesterov)  or  buf  (plain momentum)
//   p = p - lr * g
#include "nn/Optimizer.h"
#include "nn/OptimizerKinds.h"
#include "tensor/TensorOps.h"

namespace raven::nn {

namespace {
class Sgd final : public Optimizer {
public:
    Sgd(OptimizerConfig config, std::vector<std::string> names) : Optimizer(config, std::move(names)) {}

protected:
    std::vector<std::string> slotNames() const override { return {"momentum_buffer"}; }

    Tensor update(std::size_t i, const Tensor& param, const Tensor& grad) override {
        const auto& c = config_;
        Tensor g = grad;
        if (c.weightDecay != 0.0) g = add(g, mulScalar(param, static_cast<float>(c.weightDecay)));
        if (c.momentum != 0.0) {
            auto& slots = slots_[i];
            auto it = slots.find("momentum_buffer");
            Tensor buf;
            if (it == slots.end()) {
                buf = g.clone();
            } else {
                buf = add(mulScalar(it->second, static_cast<float>(c.momentum)),
                          c.dampening == 0.0 ? g : mulScalar(g, static_cast<float>(1.0 - c.dampening)));
            }
            slots["momentum_buffer"] = buf;
            g = c.nesterov ? add(g, mulScalar(buf, static_cast<float>(c.momentum))) : buf;
        }
        return sub(param, mulScalar(g, static_cast<float>(c.lr)));
    }
};
}  // namespace

std::unique_ptr<Optimizer> makeSgd(const OptimizerConfig& config, std::vector<std::string> names) {
    return std::make_unique<Sgd>(config, std::move(names));
}

}  // namespace raven::nn
