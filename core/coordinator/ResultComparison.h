#pragma once
// ResultComparison: whether a contributor's result of a work unit is the one an honest computation
// gives, judged against the coordinator's own computation of the unit (UnitReplay), in the job's
// kernel mode (docs/verification.md).
//
//   QString why = resultDifference(KernelMode::Fast, ComparedResult::of(theirs), ComparedResult::of(mine));
//   if (!why.isEmpty()) caught(why);   // says what differs, for people and the logs
//
// Verifiable kernels give the same bits on every device, so a verifiable result must equal the
// replay exactly: the same gradientDigest, sample count, loss sum and correct count.
// Fast kernels sum in an order that depends on the device, its thread count and its BLAS, so an
// honest fast result lies near the replay, not on it (the BOINC way: replicas compared within a
// tolerance). It must have the same sample count; its gradient must lie within kFastGradientTolerance
// of the replay's, as the L2 norm of the difference relative to the replay's norm; its loss sum within
// kFastLossTolerance relatively; its correct count within one per hundred predictions, plus one (a
// near tie between two classes may fall either way; a character model predicts every position of a
// sample, so its units hold predictionsPerSample(manifest) times as many). Honest fast results differ from the
// replay by about 1e-7 to 1e-5 (summation order) and at most 2^-8 (one bf16 step, where the encoding
// rounds the two sides apart); every cheat of the hostile-worker bed (scaled, negated, zero, noise,
// a stale or a copied gradient) differs by the gradient's own size, 0.5 or more. What a tolerance
// lets through is a change smaller than the honest rounding of the encoding, too small to steer a
// model.
#include <QString>

#include <cstdint>
#include <span>

#include "protocol/GradientCodec.h"
#include "tensor/KernelMode.h"

namespace raven::data {
struct Manifest;
}

namespace raven::coordinator {

inline constexpr double kFastGradientTolerance = 1e-2;
inline constexpr double kFastLossTolerance = 1e-3;

// The parts of a result two computations of a unit are compared by.
struct ComparedResult {
    std::span<const float> gradient;
    std::int64_t samples = 0;
    double lossSum = 0.0;
    std::int64_t correct = 0;

    static ComparedResult of(const protocol::WorkResult& r) {
        return {r.gradient, static_cast<std::int64_t>(r.sampleCount), r.loss, static_cast<std::int64_t>(r.correct)};
    }
};

// What differs between `theirs` and `mine` (the coordinator's replay) beyond what `mode` allows;
// empty when the result is the honest one.
// `predictionsPerSample`: what one sample's correct count can reach (predictionsPerSample(manifest)).
QString resultDifference(KernelMode mode, const ComparedResult& theirs, const ComparedResult& mine,
                         std::int64_t predictionsPerSample = 1);

// Predictions one sample's result counts: 1 for a class label, one per element of a sequence label
// (the character model predicts each next character).
std::int64_t predictionsPerSample(const data::Manifest& manifest);

// The L2 norm of theirs - mine over mine's (0 when both are zero; infinite when only mine is, or
// when a value is not finite on one side).
double relativeGradientDifference(std::span<const float> theirs, std::span<const float> mine);

}  // namespace raven::coordinator
