// residual: y = x + f(x), where f is the block's own "layers" sequence; f must keep the shape.
// The inner layers' parameters are named "<block>.<layer>.<param>" (as a PyTorch module whose
// attributes are the inner layers).
#include "nn/LayerRegistry.h"
#include "nn/layers/LayerKinds.h"
#include "nn/layers/Ops.h"

namespace raven::nn {

namespace {
class Residual final : public Layer {
public:
    explicit Residual(const LayerInput& in) : Layer(in.spec, in.fullName, in.shape) {
        SpecFields f(in.spec, in.origin);
        f.finish();
        Shape shape = inputShape_;
        for (const LayerSpec& inner : in.spec.layers) {
            layers_.push_back(buildLayer(inner, shape, fullName_, in.origin));
            shape = layers_.back()->outputShape();
        }
        if (shape != inputShape_)
            f.failLayer("the inner layers turn " + shapeText(inputShape_) + " into " + shapeText(shape) +
                            ", but a residual block must keep the shape to add its input",
                        "end the block with a layer that restores the input's size");
        flops_ = static_cast<double>(elementCount(inputShape_));
    }

    std::vector<const Layer*> children() const override {
        std::vector<const Layer*> out;
        for (const auto& l : layers_) out.push_back(l.get());
        return out;
    }

    Variable forward(const Variable& x, LayerState& state) const override {
        Variable h = x;
        for (const auto& l : layers_) h = l->forward(h, state);
        return ops::add(x, h);
    }

private:
    std::vector<std::unique_ptr<Layer>> layers_;
};
}  // namespace

std::unique_ptr<Layer> makeResidual(const LayerInput& in) { return std::make_unique<Residual>(in); }

}  // namespace raven::nn
