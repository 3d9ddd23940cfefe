// dropout: zeroes each element with probability "p" in training and scales the rest by 1/(1-p);
// the identity in evaluation. Masks are seeded from the model (LayerState::nextDropoutSeed).
#include "nn/layers/LayerKinds.h"
#include "nn/layers/Ops.h"

namespace raven::nn {

namespace {
class Dropout final : public Layer {
public:
    explicit Dropout(const LayerInput& in) : Layer(in.spec, in.fullName, in.shape) {
        SpecFields f(in.spec, in.origin);
        p_ = static_cast<float>(f.number("p", 0.5, 0.0, 0.999));
        f.finish();
        flops_ = static_cast<double>(elementCount(inputShape_));
    }

    Variable forward(const Variable& x, LayerState& state) const override {
        if (!state.training() || p_ == 0.0f) return x;
        return ops::dropout(x, p_, state.nextDropoutSeed());
    }

private:
    float p_ = 0.5f;
};
}  // namespace

std::unique_ptr<Layer> makeDropout(const LayerInput& in) { return std::make_unique<Dropout>(in); }

}  // namespace raven::nn
