// conv2d: PyTorch's nn.Conv2d on one sample [C, H, W]: weight [out_channels, C/groups, kh, kw],
// bias [out_channels]; output [out_channels, outH, outW].
#include "nn/layers/LayerKinds.h"
#include "nn/layers/Ops.h"

namespace raven::nn {

namespace {
class Conv2d final : public Layer {
public:
    explicit Conv2d(const LayerInput& in) : Layer(in.spec, in.fullName, in.shape) {
        SpecFields f(in.spec, in.origin);
        if (inputShape_.size() != 3)
            f.failLayer("needs a per-sample input [channels, height, width], got " + shapeText(inputShape_),
                        "reshape the input first, e.g. {\"kind\": \"reshape\", \"shape\": [1, 28, 28]}");
        p_.channels = inputShape_[0];
        p_.outChannels = f.positiveInt("out_channels");
        std::tie(p_.kernelH, p_.kernelW) = f.pair("kernel_size", {1, 1}, 1, true);
        std::tie(p_.strideH, p_.strideW) = f.pair("stride", {1, 1}, 1);
        std::tie(p_.padH, p_.padW) = f.pair("padding", {0, 0}, 0);
        std::tie(p_.dilationH, p_.dilationW) = f.pair("dilation", {1, 1}, 1);
        p_.groups = f.integer("groups", 1, 1);
        p_.bias = f.boolean("bias", true);
        if (p_.channels % p_.groups != 0 || p_.outChannels % p_.groups != 0)
            f.fail("groups", std::to_string(p_.groups) + " groups must divide both the input channels (" +
                                 std::to_string(p_.channels) + ") and out_channels (" + std::to_string(p_.outChannels) +
                                 ")");
        const std::int64_t spanH = sizeMul(p_.dilationH, p_.kernelH - 1) + 1;
        const std::int64_t spanW = sizeMul(p_.dilationW, p_.kernelW - 1) + 1;
        const std::int64_t paddedH = sizeAdd(inputShape_[1], sizeMul(2, p_.padH));
        const std::int64_t paddedW = sizeAdd(inputShape_[2], sizeMul(2, p_.padW));
        if (paddedH < spanH || paddedW < spanW)
            f.fail("kernel_size", "the kernel (" + std::to_string(spanH) + "x" + std::to_string(spanW) +
                                      " with dilation) is larger than the padded input " + shapeText(inputShape_));
        const std::int64_t outH = (paddedH - spanH) / p_.strideH + 1;
        const std::int64_t outW = (paddedW - spanW) / p_.strideW + 1;
        const std::int64_t receptive = sizeMul(p_.kernelH, p_.kernelW);
        const std::int64_t fanIn = sizeMul(p_.channels / p_.groups, receptive);
        // PyTorch's fan_out for a conv weight: out_channels * receptive field.
        const std::int64_t fanOut = sizeMul(p_.outChannels / p_.groups, receptive);
        ParameterDecl weight{"weight",
                             {p_.outChannels, p_.channels / p_.groups, p_.kernelH, p_.kernelW},
                             ParameterRole::Weight,
                             fanIn,
                             fanOut};
        readInitOverride(f, weight);
        f.finish();
        parameters_.push_back(weight);
        if (p_.bias) {
            ParameterDecl bias{"bias", {p_.outChannels}, ParameterRole::Bias, fanIn, fanOut};
            bias.hasScheme = weight.hasScheme;
            bias.scheme = weight.scheme;
            parameters_.push_back(bias);
        }
        outputShape_ = {p_.outChannels, outH, outW};
        const double outputs = static_cast<double>(elementCount(outputShape_));
        flops_ = outputs * (2.0 * static_cast<double>(fanIn) + (p_.bias ? 1.0 : 0.0));
    }

    Variable forward(const Variable& x, LayerState& state) const override {
        return ops::conv2d(x, state.parameter(*this, "weight"), p_.bias ? state.parameter(*this, "bias") : Variable(),
                           p_);
    }

private:
    ops::Conv2dParams p_;
};
}  // namespace

std::unique_ptr<Layer> makeConv2d(const LayerInput& in) { return std::make_unique<Conv2d>(in); }

}  // namespace raven::nn
