#include "vulkan/layers/LayerNorm.h"

#include "vulkan/Device.h"
#include "vulkan/Recorder.h"
#include "vulkan/layers/LayerSupport.h"

namespace raven::vulkan::layers {

using cpu::kernels::LayerNormShape;

void layerNormForward(Device& device, Recorder& recorder, const LayerNormShape& shape, const BufferRange& x,
                      const BufferRange& weight, const BufferRange& bias, const BufferRange& y, const BufferRange& mean,
                      const BufferRange& rstd) {
    shape.validate();
    const std::uint64_t rows = static_cast<std::uint64_t>(shape.rows), total = rows * shape.features;
    requireIndexable("layer_norm", "x", total);
    requireFloats("layer_norm", "x", x, total);
    requireFloats("layer_norm", "y", y, total);
    requireFloats("layer_norm", "mean", mean, rows);
    requireFloats("layer_norm", "rstd", rstd, rows);
    if (present(weight)) requireFloats("layer_norm", "weight", weight, static_cast<std::uint64_t>(shape.features));
    if (present(bias)) requireFloats("layer_norm", "bias", bias, static_cast<std::uint64_t>(shape.features));
    struct {
        std::uint32_t rows, features;
        float eps;
        std::uint32_t hasWeight, hasBias;
    } params{u32(shape.rows), u32(shape.features), shape.eps, present(weight) ? 1u : 0u, present(bias) ? 1u : 0u};
    const Pipeline& pipeline =
        device.pipelines().get({"layer_layer_norm_forward", 6, sizeof params, {reductionWorkgroupSize(device)}});
    recorder.dispatch(pipeline,
                      {{x, Access::Read},
                       {orElse(weight, x), Access::Read},
                       {orElse(bias, x), Access::Read},
                       {y, Access::Write},
                       {mean, Access::Write},
                       {rstd, Access::Write}},
                      params, Groups{params.rows, 1, 1});
}

void layerNormBackward(Device& device, Recorder& recorder, const LayerNormShape& shape, const BufferRange& x,
                       const BufferRange& weight, const BufferRange& mean, const BufferRange& rstd,
                       const BufferRange& dy, const BufferRange& dx, const BufferRange& dweight,
                       const BufferRange& dbias) {
    shape.validate();
    const std::uint64_t rows = static_cast<std::uint64_t>(shape.rows), total = rows * shape.features;
    const auto features = static_cast<std::uint64_t>(shape.features);
    requireIndexable("layer_norm backward", "x", total);
    requireFloats("layer_norm backward", "x", x, total);
    requireFloats("layer_norm backward", "dy", dy, total);
    requireFloats("layer_norm backward", "mean", mean, rows);
    requireFloats("layer_norm backward", "rstd", rstd, rows);
    if (present(dx)) {
        requireFloats("layer_norm backward", "dx", dx, total);
        if (present(weight)) requireFloats("layer_norm backward", "weight", weight, features);
        struct {
            std::uint32_t rows, features, hasWeight;
        } params{u32(shape.rows), u32(shape.features), present(weight) ? 1u : 0u};
        const Pipeline& pipeline = device.pipelines().get(
            {"layer_layer_norm_backward_input", 6, sizeof params, {reductionWorkgroupSize(device)}});
        recorder.dispatch(pipeline,
                          {{x, Access::Read},
                           {orElse(weight, x), Access::Read},
                           {mean, Access::Read},
                           {rstd, Access::Read},
                           {dy, Access::Read},
                           {dx, Access::Write}},
                          params, Groups{params.rows, 1, 1});
    }
    if (present(dweight) || present(dbias)) {
        if (present(dweight)) requireFloats("layer_norm backward", "dweight", dweight, features);
        if (present(dbias)) requireFloats("layer_norm backward", "dbias", dbias, features);
        struct {
            std::uint32_t rows, features, wantWeight, wantBias;
        } params{u32(shape.rows), u32(shape.features), present(dweight) ? 1u : 0u, present(dbias) ? 1u : 0u};
        const std::uint32_t local = linearWorkgroupSize(device);
        const Pipeline& pipeline =
            device.pipelines().get({"layer_layer_norm_backward_params", 6, sizeof params, {local}});
        recorder.dispatch(pipeline,
                          {{x, Access::Read},
                           {mean, Access::Read},
                           {rstd, Access::Read},
                           {dy, Access::Read},
                           {orElse(dweight, dbias), Access::Write},
                           {orElse(dbias, dweight), Access::Write}},
                          params, Recorder::groupsFor(features, local));
    }
}

}  // namespace raven::vulkan::layers
