// linear: y = x W^T + b over the last axis (PyTorch's nn.Linear): weight [out, in], bias [out].
#include "nn/layers/LayerKinds.h"
#include "nn/layers/Ops.h"

namespace raven::nn {

namespace {
class Linear final : public Layer {
public:
    explicit Linear(const LayerInput& in) : Layer(in.spec, in.fullName, in.shape) {
        SpecFields f(in.spec, in.origin);
        const std::int64_t out = f.positiveInt("out");
        bias_ = f.boolean("bias", true);
        ParameterDecl weight{"weight", {out, inputShape_.back()}, ParameterRole::Weight, inputShape_.back(), out};
        readInitOverride(f, weight);
        f.finish();
        const std::int64_t features = inputShape_.back();
        parameters_.push_back(weight);
        if (bias_) {
            ParameterDecl bias{"bias", {out}, ParameterRole::Bias, features, out};
            bias.hasScheme = weight.hasScheme;
            bias.scheme = weight.scheme;
            parameters_.push_back(bias);
        }
        outputShape_.back() = out;
        const double rows = static_cast<double>(elementCount(inputShape_) / features);
        flops_ = rows * (2.0 * static_cast<double>(features) * static_cast<double>(out) +
                         (bias_ ? static_cast<double>(out) : 0.0));
    }

    Variable forward(const Variable& x, LayerState& state) const override {
        return ops::linear(x, state.parameter(*this, "weight"), bias_ ? state.parameter(*this, "bias") : Variable());
    }

private:
    bool bias_ = true;
};
}  // namespace

std::unique_ptr<Layer> makeLinear(const LayerInput& in) { return std::make_unique<Linear>(in); }

}  // namespace raven::nn
