// layer_norm over the last axis (PyTorch's nn.LayerNorm(features)): weight and bias [features].
// batch_norm per channel of [C] or [C, H, W] samples (nn.BatchNorm1d / nn.BatchNorm2d): weight and
// bias [C]; buffers running_mean, running_var [C] and num_batches_tracked [] as in PyTorch.
#include "nn/layers/LayerKinds.h"
#include "nn/layers/Ops.h"

namespace raven::nn {

namespace {
class LayerNorm final : public Layer {
public:
    explicit LayerNorm(const LayerInput& in) : Layer(in.spec, in.fullName, in.shape) {
        SpecFields f(in.spec, in.origin);
        eps_ = static_cast<float>(f.number("eps", 1e-5, 0.0, 1.0));
        affine_ = f.boolean("elementwise_affine", true);
        f.finish();
        const std::int64_t features = inputShape_.back();
        if (affine_) {
            parameters_.push_back({"weight", {features}, ParameterRole::Ones});
            parameters_.push_back({"bias", {features}, ParameterRole::Zeros});
        }
        // mean, variance, subtract, multiply by 1/std, then scale and shift.
        flops_ = static_cast<double>(elementCount(inputShape_)) * (affine_ ? 7.0 : 5.0);
    }

    Variable forward(const Variable& x, LayerState& state) const override {
        return ops::layerNorm(x, affine_ ? state.parameter(*this, "weight") : Variable(),
                              affine_ ? state.parameter(*this, "bias") : Variable(), eps_);
    }

private:
    float eps_ = 1e-5f;
    bool affine_ = true;
};

class BatchNorm final : public Layer {
public:
    explicit BatchNorm(const LayerInput& in) : Layer(in.spec, in.fullName, in.shape) {
        SpecFields f(in.spec, in.origin);
        if (inputShape_.size() != 1 && inputShape_.size() != 3)
            f.failLayer("needs a per-sample input [features] or [channels, height, width], got " +
                        shapeText(inputShape_));
        eps_ = static_cast<float>(f.number("eps", 1e-5, 0.0, 1.0));
        momentum_ = static_cast<float>(f.number("momentum", 0.1, 0.0, 1.0));
        affine_ = f.boolean("affine", true);
        f.finish();
        const std::int64_t channels = inputShape_[0];
        if (affine_) {
            parameters_.push_back({"weight", {channels}, ParameterRole::Ones});
            parameters_.push_back({"bias", {channels}, ParameterRole::Zeros});
        }
        buffers_.push_back({"running_mean", {channels}, ParameterRole::Zeros});
        buffers_.push_back({"running_var", {channels}, ParameterRole::Ones});
        buffers_.push_back({"num_batches_tracked", {}, ParameterRole::Zeros});
        flops_ = static_cast<double>(elementCount(inputShape_)) * (affine_ ? 7.0 : 5.0);
    }

    Variable forward(const Variable& x, LayerState& state) const override {
        return ops::batchNorm(x, affine_ ? state.parameter(*this, "weight") : Variable(),
                              affine_ ? state.parameter(*this, "bias") : Variable(),
                              state.buffer(*this, "running_mean"), state.buffer(*this, "running_var"),
                              state.buffer(*this, "num_batches_tracked"), state.training(), eps_, momentum_);
    }

private:
    float eps_ = 1e-5f;
    float momentum_ = 0.1f;
    bool affine_ = true;
};
}  // namespace

std::unique_ptr<Layer> makeLayerNorm(const LayerInput& in) { return std::make_unique<LayerNorm>(in); }

std::unique_ptr<Layer> makeBatchNorm(const LayerInput& in) { return std::make_unique<BatchNorm>(in); }

}  // namespace raven::nn
