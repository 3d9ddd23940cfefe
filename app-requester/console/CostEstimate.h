#pragma once
// CostEstimate: what a job will cost before it is submitted. A contributor is paid for the
// floating-point work of each accepted work unit (docs/ledger.md): training FLOPs per sample (the
// forward pass x 3, nn::Architecture) x samples trained x the coordinator's price per 10^12 FLOPs.
// Evaluations are not paid by the job, so they are not counted.
#include <cstdint>

#include "ledger/Ledger.h"

namespace raven::console {

struct CostEstimate {
    std::int64_t samples = 0;       // samples the job trains on (all epochs, or max steps x batch)
    std::int64_t steps = 0;         // optimizer steps
    double flops = 0;               // training FLOPs in all
    std::int64_t microCredits = 0;  // the price of those FLOPs
};

// `trainSamples`: the dataset's training split; `maxSteps` 0: as many steps as the epochs take.
CostEstimate estimateCost(double trainingFlopsPerSample, std::int64_t trainSamples, int epochs, int batch,
                          std::int64_t maxSteps, const ledger::CreditRate& rate);

}  // namespace raven::console
