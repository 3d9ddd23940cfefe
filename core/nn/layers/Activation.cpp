// Elementwise activations (relu, gelu, tanh, sigmoid) and softmax over the last axis.
// gelu takes "approximate": "none" (the exact erf form, PyTorch's default) or "tanh".
#include "nn/layers/LayerKinds.h"
#include "nn/layers/Ops.h"

namespace raven::nn {

namespace {
class Activation final : public Layer {
public:
    explicit Activation(const LayerInput& in) : Layer(in.spec, in.fullName, in.shape) {
        SpecFields f(in.spec, in.origin);
        if (kind_ == "gelu") {
            const std::string approximate = f.string("approximate", "none");
            if (approximate != "none" && approximate != "tanh")
                f.fail("approximate", "must be \"none\" or \"tanh\", got \"" + approximate + "\"");
            tanhGelu_ = approximate == "tanh";
        }
        f.finish();
        // Softmax: max, subtract, exp, sum, divide; the others one operation per element.
        flops_ = static_cast<double>(elementCount(inputShape_)) * (kind_ == "softmax" ? 5.0 : 1.0);
    }

    Variable forward(const Variable& x, LayerState&) const override {
        if (kind_ == "relu") return ops::relu(x);
        if (kind_ == "gelu") return ops::gelu(x, tanhGelu_);
        if (kind_ == "tanh") return ops::tanh(x);
        if (kind_ == "sigmoid") return ops::sigmoid(x);
        return ops::softmax(x);
    }

private:
    bool tanhGelu_ = false;
};
}  // namespace

std::unique_ptr<Layer> makeActivation(const LayerInput& in) { return std::make_unique<Activation>(in); }

}  // namespace raven::nn
