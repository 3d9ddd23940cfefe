#pragma once
// JobBounds: whether a model spec fits what the coordinator and a volunteer's device can hold, asked
// when a spec is uploaded and again when a job is created (with the job's unit size). A spec with a
// billion-parameter layer would otherwise pass upload, fail job creation with std::bad_alloc and
// leave the job running with its escrow held; one with small weights but huge activations would
// exhaust every volunteer's memory instead.
//
//   JobBounds bounds(options.jobs);
//   if (auto why = bounds.checkSpec(arch)) refuse(INVALID_ARGUMENT, *why, hint);
//   if (auto why = bounds.checkUnit(arch, samplesPerUnit)) refuse(INVALID_ARGUMENT, *why, hint);
//
// Sizes are computed in double from each layer's output shape, so no product can wrap.
#include <QString>

#include <optional>

#include "coordinator/Coordinator.h"
#include "nn/Architecture.h"

namespace raven::coordinator {

struct ModelCost {
    double parameters = 0;
    double activationBytesPerSample = 0;  // every layer's output, fp32, kept for the backward pass
    double trainingFlopsPerSample = 0;
    static ModelCost of(const nn::Architecture& arch);
};

class JobBounds {
public:
    explicit JobBounds(CoordinatorOptions::JobLimits limits) : limits_(limits) {}

    std::optional<QString> checkSpec(const nn::Architecture& arch) const;
    std::optional<QString> checkUnit(const nn::Architecture& arch, double samplesPerUnit) const;
    // What to tell the requester when a check fails.
    static QString hint();

private:
    std::optional<QString> checkCost(const ModelCost& cost) const;

    CoordinatorOptions::JobLimits limits_;
};

}  // namespace raven::coordinator
