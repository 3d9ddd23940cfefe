#include "vulkan/layers/BatchNorm.h"

#include "base/Error.h"
#include "vulkan/Device.h"
#include "vulkan/Recorder.h"
#include "vulkan/layers/LayerSupport.h"

namespace raven::vulkan::layers {

using cpu::kernels::BatchNormShape;

void batchNormForward(Device& device, Recorder& recorder, const BatchNormShape& shape, bool training,
                      const BufferRange& x, const BufferRange& weight, const BufferRange& bias,
                      const BufferRange& runningMean, const BufferRange& runningVar, const BufferRange& y,
                      const BufferRange& savedMean, const BufferRange& savedInvstd) {
    shape.validate(training);
    const auto channels = static_cast<std::uint64_t>(shape.channels);
    const std::uint64_t total = static_cast<std::uint64_t>(shape.batch) * channels * shape.spatial;
    requireIndexable("batch_norm", "x", total);
    requireFloats("batch_norm", "x", x, total);
    requireFloats("batch_norm", "y", y, total);
    requireFloats("batch_norm", "savedMean", savedMean, channels);
    requireFloats("batch_norm", "savedInvstd", savedInvstd, channels);
    if (present(weight)) requireFloats("batch_norm", "weight", weight, channels);
    if (present(bias)) requireFloats("batch_norm", "bias", bias, channels);
    RAVEN_CHECK(training || (present(runningMean) && present(runningVar)),
                "batch_norm: evaluation needs the running mean and variance", "bind both running statistics");
    if (present(runningMean)) requireFloats("batch_norm", "runningMean", runningMean, channels);
    if (present(runningVar)) requireFloats("batch_norm", "runningVar", runningVar, channels);
    struct {
        std::uint32_t batch, channels, spatial;
        float eps, momentum;
        std::uint32_t training, hasWeight, hasBias, hasRunning;
    } params{u32(shape.batch),
             u32(shape.channels),
             u32(shape.spatial),
             shape.eps,
             shape.momentum,
             training ? 1u : 0u,
             present(weight) ? 1u : 0u,
             present(bias) ? 1u : 0u,
             (present(runningMean) ? 1u : 0u) | (present(runningVar) ? 2u : 0u)};
    const Pipeline& pipeline =
        device.pipelines().get({"layer_batch_norm_forward", 8, sizeof params, {reductionWorkgroupSize(device)}});
    // Running statistics are read and written only when bound; otherwise savedMean stands in (untouched).
    const Access running = training ? Access::ReadWrite : Access::Read;
    recorder.dispatch(pipeline,
                      {{x, Access::Read},
                       {orElse(weight, x), Access::Read},
                       {orElse(bias, x), Access::Read},
                       {orElse(runningMean, savedMean), present(runningMean) ? running : Access::Write},
                       {orElse(runningVar, savedMean), present(runningVar) ? running : Access::Write},
                       {y, Access::Write},
                       {savedMean, Access::Write},
                       {savedInvstd, Access::Write}},
                      params, Groups{params.channels, 1, 1});
}

void batchNormBackward(Device& device, Recorder& recorder, const BatchNormShape& shape, bool training,
                       const BufferRange& x, const BufferRange& weight, const BufferRange& savedMean,
                       const BufferRange& savedInvstd, const BufferRange& dy, const BufferRange& dx,
                       const BufferRange& dweight, const BufferRange& dbias) {
    shape.validate(training);
    if (!present(dx) && !present(dweight) && !present(dbias)) return;
    const auto channels = static_cast<std::uint64_t>(shape.channels);
    const std::uint64_t total = static_cast<std::uint64_t>(shape.batch) * channels * shape.spatial;
    requireIndexable("batch_norm backward", "x", total);
    requireFloats("batch_norm backward", "x", x, total);
    requireFloats("batch_norm backward", "dy", dy, total);
    requireFloats("batch_norm backward", "savedMean", savedMean, channels);
    requireFloats("batch_norm backward", "savedInvstd", savedInvstd, channels);
    if (present(weight)) requireFloats("batch_norm backward", "weight", weight, channels);
    if (present(dx)) requireFloats("batch_norm backward", "dx", dx, total);
    if (present(dweight)) requireFloats("batch_norm backward", "dweight", dweight, channels);
    if (present(dbias)) requireFloats("batch_norm backward", "dbias", dbias, channels);
    struct {
        std::uint32_t batch, channels, spatial;
        std::uint32_t training, hasWeight, wantInput, wantWeight, wantBias;
    } params{u32(shape.batch),          u32(shape.channels),   u32(shape.spatial),         training ? 1u : 0u,
             present(weight) ? 1u : 0u, present(dx) ? 1u : 0u, present(dweight) ? 1u : 0u, present(dbias) ? 1u : 0u};
    // An output not wanted is bound to one that is (and never written through that binding).
    const BufferRange someOutput = present(dx) ? dx : present(dweight) ? dweight : dbias;
    const Pipeline& pipeline =
        device.pipelines().get({"layer_batch_norm_backward", 8, sizeof params, {reductionWorkgroupSize(device)}});
    recorder.dispatch(pipeline,
                      {{x, Access::Read},
                       {orElse(weight, x), Access::Read},
                       {savedMean, Access::Read},
                       {savedInvstd, Access::Read},
                       {dy, Access::Read},
                       {orElse(dx, someOutput), Access::Write},
                       {orElse(dweight, someOutput), Access::Write},
                       {orElse(dbias, someOutput), Access::Write}},
                      params, Groups{params.channels, 1, 1});
}

}  // namespace raven::vulkan::layers
