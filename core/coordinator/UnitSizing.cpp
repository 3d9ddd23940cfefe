#include "coordinator/UnitSizing.h"

#include <algorithm>
#include <cmath>

#include "protocol/raven.pb.h"

namespace raven::coordinator {

std::int64_t UnitSizing::shardsPerUnit(const nn::Architecture& model, const training::StepPlan& plan,
                                       double bytesPerValue) const {
    const std::int64_t shards = std::max<std::int64_t>(1, plan.shardsPerStep());
    const double samplesPerShard =
        std::max(1.0, static_cast<double>(plan.samplesOfStep(0)) / static_cast<double>(plan.shardsPerStep()));
    const double parameters = static_cast<double>(model.parameterCount());
    const double bytes = parameters * (bytesPerValue + 4.0);
    const double transferSeconds = roundTripMs / 1000.0 + bytes * 8.0 / (std::max(1e-3, linkMbitPerS) * 1e6);
    const double computeSeconds = transferMultiple * transferSeconds;
    const double flopsPerSample = std::max(1.0, model.trainingFlopsPerSample());
    const double samples = computeSeconds * std::max(1e-3, workerGflops) * 1e9 / flopsPerSample;
    const double fit = std::floor(samples / samplesPerShard);
    const std::int64_t most =
        std::isfinite(fit) ? static_cast<std::int64_t>(std::clamp(fit, 1.0, static_cast<double>(shards))) : shards;
    const std::int64_t units = (shards + most - 1) / most;
    return (shards + units - 1) / units;
}

double gradientBytesPerValue(int encoding) {
    if (encoding == wire::GRADIENT_ENCODING_INT8_BLOCK) return 1.0 + 4.0 / 256.0;  // tensor/BlockInt8.h
    return encoding == wire::GRADIENT_ENCODING_FP16 || encoding == wire::GRADIENT_ENCODING_BF16 ? 2.0 : 4.0;
}

}  // namespace raven::coordinator
