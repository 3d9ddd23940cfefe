#include "CostEstimate.h"

#include <algorithm>
#include <cmath>

namespace raven::console {

CostEstimate estimateCost(double trainingFlopsPerSample, std::int64_t trainSamples, int epochs, int batch,
                          std::int64_t maxSteps, const ledger::CreditRate& rate) {
    CostEstimate e;
    if (batch <= 0 || epochs <= 0 || trainSamples <= 0) return e;
    const std::int64_t stepsPerEpoch = (trainSamples + batch - 1) / batch;
    e.steps = stepsPerEpoch * epochs;
    e.samples = trainSamples * epochs;
    if (maxSteps > 0 && maxSteps < e.steps) {
        e.steps = maxSteps;
        e.samples = std::min(e.samples, maxSteps * std::int64_t(batch));
    }
    e.flops = trainingFlopsPerSample * double(e.samples);
    e.microCredits = std::int64_t(std::ceil(e.flops * double(rate.perTeraflop) / 1e12));
    return e;
}

}  // namespace raven::console
