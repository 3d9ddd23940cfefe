// flatten (every per-sample axis into one, PyTorch's nn.Flatten()) and reshape (to "shape", per
// sample, one size may be -1). Both are views: no copy, no FLOPs.
#include "nn/layers/LayerKinds.h"
#include "nn/layers/Ops.h"

namespace raven::nn {

namespace {
class Reshape final : public Layer {
public:
    Reshape(const LayerInput& in, bool flatten) : Layer(in.spec, in.fullName, in.shape) {
        SpecFields f(in.spec, in.origin);
        const std::int64_t count = elementCount(inputShape_);
        if (flatten) {
            outputShape_ = {count};
        } else {
            Shape target = f.shape("shape", true);
            std::int64_t known = 1;
            for (std::int64_t s : target)
                if (s != -1) known = sizeMul(known, s);
            for (std::int64_t& s : target)
                if (s == -1) s = count % known == 0 ? count / known : -1;
            if (elementCount(target) != count)
                f.fail("shape",
                       "cannot reshape the input " + shapeText(inputShape_) + " (" + std::to_string(count) +
                           " values per sample) to " + shapeText(target),
                       "the sizes must multiply to the same count");
            outputShape_ = target;
        }
        f.finish();
    }

    Variable forward(const Variable& x, LayerState&) const override {
        Shape shape{ops::batchSize(x)};
        shape.insert(shape.end(), outputShape_.begin(), outputShape_.end());
        return ops::reshape(x, shape);
    }
};
}  // namespace

std::unique_ptr<Layer> makeFlatten(const LayerInput& in) { return std::make_unique<Reshape>(in, true); }

std::unique_ptr<Layer> makeReshape(const LayerInput& in) { return std::make_unique<Reshape>(in, false); }

}  // namespace raven::nn
