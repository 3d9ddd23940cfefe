#pragma once
// RobustAggregation: a step's unit gradients combined so that a few wrong ones move the model
// only a bounded distance, for fast-mode jobs, whose results cannot be replayed bit for bit.
//
//   RobustStep step = centredClip(results, options);    // results: the step's units, in id order
//   averageGradients(model, {&step.gradientSum}, samples) -> the robust mean, as for the plain sum
//
// Centred clipping (Karimireddy, He & Jaggi, ICML 2021) around the coordinate-wise median of the
// units' mean gradients:
//   c      = median_i(g_i / n_i)                         per coordinate
//   d_i    = || g_i / n_i - c ||
//   tau    = clipMultiplier * median_i(d_i)
//   mean   = c + sum_i (n_i / N) * s_i * (g_i / n_i - c),   s_i = min(1, tau / d_i), 0 for an outlier
// An honest unit lies near the others, so it is rarely clipped and the mean is close to the plain
// one; a made-up or hugely scaled gradient lies far off and adds at most tau. A unit is named an
// outlier, so that its contributor can be suspected, when its spread s_i = d_i * sqrt(n_i) (the
// distance at a common number of samples) exceeds outlierMultiplier * median(s); an outlier's pull
// is dropped (it counts as the centre), since no honest unit lies that far off. The median needs every unit of the step, so a robust job keeps the step's results in
// memory until the step (the plain mean sums them as they arrive).
//
// Everything is computed in unit id order on one thread with fixed arithmetic: the same results
// give the same bits, so a restarted coordinator takes the same step.
#include <cstdint>
#include <utility>
#include <vector>

#include "coordinator/OrderedGradientSum.h"
#include "ledger/StoreTypes.h"

namespace raven::coordinator {

enum class Aggregation {
    Mean,         // the sum of the units' gradients (exact; the default)
    CentredClip,  // centred clipping around the coordinate-wise median
};

struct RobustOptions {
    double clipMultiplier = 2.0;     // tau = this x the median distance
    double outlierMultiplier = 5.0;  // an outlier's spread exceeds this x the median spread
};

struct UnitVerdict {
    ledger::WorkUnitId unit = 0;
    ledger::ContributorId contributor = 0;
    double distance = 0.0;  // || mean gradient - centre ||
    bool clipped = false;
    bool outlier = false;
};

struct RobustStep {
    // N x the robust mean gradient (N = the step's samples), so that averageGradients(.., N) gives
    // the robust mean, as it gives the plain mean from the plain sum.
    std::vector<float> gradientSum;
    double medianDistance = 0.0;
    double radius = 0.0;  // tau
    std::vector<UnitVerdict> units;  // in id order
    int clippedUnits() const;
    int outlierUnits() const;
};

// `results`: the step's units in id order with their results (a gradient is the sum over the
// unit's samples, as workers send it). raven::Error for no results, a result with no samples, or
// gradients of different sizes.
RobustStep centredClip(const std::vector<std::pair<ledger::WorkUnitId, const StoredResult*>>& results,
                       const RobustOptions& options);

}  // namespace raven::coordinator
