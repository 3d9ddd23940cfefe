// The layer shapes' checks (LayerShapes.h): every failure names the kernel, the field and its value,
// and says what to do.
#include "tensor/LayerShapes.h"

#include <cmath>
#include <string>

#include "base/Error.h"

namespace raven {

namespace {
void requireAtLeast(const char* kernel, const char* field, int64_t value, int64_t minimum) {
    if (value < minimum)
        fail(std::string(kernel) + ": " + field + " is " + std::to_string(value) + ", it must be at least " +
                 std::to_string(minimum),
             "check the shape passed to the kernel");
}
}  // namespace

void Conv2dShape::validate() const {
    const char* k = "conv2d";
    requireAtLeast(k, "batch", batch, 1);
    requireAtLeast(k, "inChannels", inChannels, 1);
    requireAtLeast(k, "height", height, 1);
    requireAtLeast(k, "width", width, 1);
    requireAtLeast(k, "outChannels", outChannels, 1);
    requireAtLeast(k, "kernelH", kernelH, 1);
    requireAtLeast(k, "kernelW", kernelW, 1);
    requireAtLeast(k, "strideH", strideH, 1);
    requireAtLeast(k, "strideW", strideW, 1);
    requireAtLeast(k, "padH", padH, 0);
    requireAtLeast(k, "padW", padW, 0);
    requireAtLeast(k, "dilationH", dilationH, 1);
    requireAtLeast(k, "dilationW", dilationW, 1);
    requireAtLeast(k, "groups", groups, 1);
    if (inChannels % groups != 0 || outChannels % groups != 0)
        fail("conv2d: input channels (" + std::to_string(inChannels) + ") and output channels (" +
                 std::to_string(outChannels) + ") must both be divisible by groups (" + std::to_string(groups) + ")",
             "choose a number of groups that divides both channel counts");
    if (outH() < 1 || outW() < 1)
        fail("conv2d: the kernel (" + std::to_string(dilationH * (kernelH - 1) + 1) + "x" +
                 std::to_string(dilationW * (kernelW - 1) + 1) + " with dilation) is larger than the padded input (" +
                 std::to_string(height + 2 * padH) + "x" + std::to_string(width + 2 * padW) + ")",
             "use a smaller kernel or dilation, or more padding");
}

void Pool2dShape::validate() const {
    const char* k = "pool2d";
    requireAtLeast(k, "batch", batch, 1);
    requireAtLeast(k, "channels", channels, 1);
    requireAtLeast(k, "height", height, 1);
    requireAtLeast(k, "width", width, 1);
    requireAtLeast(k, "kernelH", kernelH, 1);
    requireAtLeast(k, "kernelW", kernelW, 1);
    requireAtLeast(k, "strideH", strideH, 1);
    requireAtLeast(k, "strideW", strideW, 1);
    requireAtLeast(k, "padH", padH, 0);
    requireAtLeast(k, "padW", padW, 0);
    if (2 * padH > kernelH || 2 * padW > kernelW)
        fail("pool2d: padding (" + std::to_string(padH) + ", " + std::to_string(padW) +
                 ") is more than half the kernel (" + std::to_string(kernelH) + "x" + std::to_string(kernelW) + ")",
             "use padding of at most kernel / 2, as PyTorch requires");
    if (outH() < 1 || outW() < 1)
        fail("pool2d: the kernel (" + std::to_string(kernelH) + "x" + std::to_string(kernelW) +
                 ") is larger than the padded input (" + std::to_string(height + 2 * padH) + "x" +
                 std::to_string(width + 2 * padW) + ")",
             "use a smaller kernel or more padding");
}

void BatchNormShape::validate(bool training) const {
    requireAtLeast("batch_norm", "batch", batch, 1);
    requireAtLeast("batch_norm", "channels", channels, 1);
    requireAtLeast("batch_norm", "spatial", spatial, 1);
    if (!(eps >= 0.0f))
        fail("batch_norm: eps is " + std::to_string(eps) + ", it must be zero or positive", "use eps = 1e-5");
    if (training && batch * spatial < 2)
        fail("batch_norm: training needs more than one value per channel, the input has " +
                 std::to_string(batch * spatial) + " (batch " + std::to_string(batch) + " x spatial " +
                 std::to_string(spatial) + ")",
             "use a batch of at least 2 samples, or evaluation mode");
}

void AttentionShape::validate() const {
    const char* k = "attention";
    requireAtLeast(k, "batch", batch, 1);
    requireAtLeast(k, "heads", heads, 1);
    requireAtLeast(k, "queryLength", queryLength, 1);
    requireAtLeast(k, "keyLength", keyLength, 1);
    requireAtLeast(k, "headDim", headDim, 1);
    requireAtLeast(k, "valueDim", valueDim, 1);
    if (!(scale >= 0.0f))
        fail("attention: scale is " + std::to_string(scale) + ", it must be positive (or 0 for 1/sqrt(headDim))",
             "leave scale at 0 for the usual 1/sqrt(headDim)");
}

float AttentionShape::effectiveScale() const {
    return scale > 0.0f ? scale : static_cast<float>(1.0 / std::sqrt(static_cast<double>(headDim)));
}

}  // namespace raven
