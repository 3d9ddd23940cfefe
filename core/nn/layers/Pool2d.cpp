// max_pool2d and avg_pool2d on one sample [C, H, W] (PyTorch's nn.MaxPool2d / nn.AvgPool2d with
// ceil_mode off): "kernel_size", "stride" (default: the kernel size), "padding" (at most half the
// kernel), avg_pool2d also "count_include_pad" (default true).
#include "nn/layers/LayerKinds.h"
#include "nn/layers/Ops.h"

namespace raven::nn {

namespace {
class Pool2d final : public Layer {
public:
    explicit Pool2d(const LayerInput& in) : Layer(in.spec, in.fullName, in.shape) {
        SpecFields f(in.spec, in.origin);
        if (inputShape_.size() != 3)
            f.failLayer("needs a per-sample input [channels, height, width], got " + shapeText(inputShape_));
        p_.max = kind_ == "max_pool2d";
        std::tie(p_.kernelH, p_.kernelW) = f.pair("kernel_size", {1, 1}, 1, true);
        std::tie(p_.strideH, p_.strideW) = f.pair("stride", {p_.kernelH, p_.kernelW}, 1);
        std::tie(p_.padH, p_.padW) = f.pair("padding", {0, 0}, 0);
        if (!p_.max) p_.countIncludePad = f.boolean("count_include_pad", true);
        f.finish();
        if (2 * p_.padH > p_.kernelH || 2 * p_.padW > p_.kernelW)
            f.fail("padding", "must be at most half the kernel size (PyTorch's rule)");
        const std::int64_t paddedH = sizeAdd(inputShape_[1], sizeMul(2, p_.padH));
        const std::int64_t paddedW = sizeAdd(inputShape_[2], sizeMul(2, p_.padW));
        if (paddedH < p_.kernelH || paddedW < p_.kernelW)
            f.fail("kernel_size", "is larger than the padded input " + shapeText(inputShape_));
        const std::int64_t outH = (paddedH - p_.kernelH) / p_.strideH + 1;
        const std::int64_t outW = (paddedW - p_.kernelW) / p_.strideW + 1;
        outputShape_ = {inputShape_[0], outH, outW};
        flops_ = static_cast<double>(elementCount(outputShape_)) * static_cast<double>(p_.kernelH) *
                 static_cast<double>(p_.kernelW);
    }

    Variable forward(const Variable& x, LayerState&) const override { return ops::pool2d(x, p_); }

private:
    ops::Pool2dParams p_;
};
}  // namespace

std::unique_ptr<Layer> makePool2d(const LayerInput& in) { return std::make_unique<Pool2d>(in); }

}  // namespace raven::nn
