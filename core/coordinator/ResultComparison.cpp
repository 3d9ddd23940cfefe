#include "coordinator/ResultComparison.h"

#include <cmath>
#include <limits>

#include "coordinator/GradientDigest.h"
#include "data/Manifest.h"

namespace raven::coordinator {

namespace {

// Both sides agree on a value that is not finite (a diverged model gives the same NaN or infinity to
// the honest worker and to the replay).
bool sameNonFinite(float a, float b) { return (std::isnan(a) && std::isnan(b)) || (std::isinf(a) && a == b); }

QString countsDiffer(const ComparedResult& theirs, const ComparedResult& mine) {
    if (theirs.samples != mine.samples)
        return QStringLiteral("it counts %1 samples where the replay counts %2").arg(theirs.samples).arg(mine.samples);
    return {};
}

QString exactDifference(const ComparedResult& theirs, const ComparedResult& mine) {
    const QString theirDigest = gradientDigest(theirs.gradient), myDigest = gradientDigest(mine.gradient);
    if (theirDigest != myDigest)
        return QStringLiteral("its gradient digest %1 is not the replay's %2")
            .arg(theirDigest.left(16), myDigest.left(16));
    if (QString counts = countsDiffer(theirs, mine); !counts.isEmpty()) return counts;
    // The loss is summed in double from the same float losses in the same order: equal bits too.
    if (theirs.lossSum != mine.lossSum)
        return QStringLiteral("its loss sum %1 is not the replay's %2")
            .arg(theirs.lossSum, 0, 'g', 17)
            .arg(mine.lossSum, 0, 'g', 17);
    if (theirs.correct != mine.correct)
        return QStringLiteral("it counts %1 correct predictions where the replay counts %2")
            .arg(theirs.correct)
            .arg(mine.correct);
    return {};
}

QString toleratedDifference(const ComparedResult& theirs, const ComparedResult& mine, std::int64_t predictions) {
    if (QString counts = countsDiffer(theirs, mine); !counts.isEmpty()) return counts;
    const double gradient = relativeGradientDifference(theirs.gradient, mine.gradient);
    if (!(gradient <= kFastGradientTolerance))
        return QStringLiteral("its gradient is %1 of the replay's size away from it (fast kernels allow %2)")
            .arg(gradient, 0, 'g', 3)
            .arg(kFastGradientTolerance, 0, 'g', 3);
    const double lossScale = std::max(std::abs(mine.lossSum), 1e-6 * static_cast<double>(mine.samples));
    const bool lossesNonFinite = !std::isfinite(theirs.lossSum) || !std::isfinite(mine.lossSum);
    if (lossesNonFinite ? !sameNonFinite(static_cast<float>(theirs.lossSum), static_cast<float>(mine.lossSum))
                        : !(std::abs(theirs.lossSum - mine.lossSum) <= kFastLossTolerance * lossScale))
        return QStringLiteral("its loss sum %1 is not the replay's %2 (fast kernels allow a relative %3)")
            .arg(theirs.lossSum, 0, 'g', 9)
            .arg(mine.lossSum, 0, 'g', 9)
            .arg(kFastLossTolerance, 0, 'g', 3);
    const std::int64_t tiesAllowed = 1 + mine.samples * std::max<std::int64_t>(1, predictions) / 100;
    if (std::abs(theirs.correct - mine.correct) > tiesAllowed)
        return QStringLiteral(
                   "it counts %1 correct predictions where the replay counts %2 (fast kernels allow %3 apart)")
            .arg(theirs.correct)
            .arg(mine.correct)
            .arg(tiesAllowed);
    return {};
}

}  // namespace

double relativeGradientDifference(std::span<const float> theirs, std::span<const float> mine) {
    if (theirs.size() != mine.size()) return std::numeric_limits<double>::infinity();
    double difference = 0.0, norm = 0.0;
    for (std::size_t i = 0; i < mine.size(); ++i) {
        const float a = theirs[i], b = mine[i];
        if (!std::isfinite(a) || !std::isfinite(b)) {
            if (sameNonFinite(a, b)) continue;
            return std::numeric_limits<double>::infinity();
        }
        const double d = static_cast<double>(a) - static_cast<double>(b);
        difference += d * d;
        norm += static_cast<double>(b) * static_cast<double>(b);
    }
    if (difference == 0.0) return 0.0;
    if (norm == 0.0) return std::numeric_limits<double>::infinity();
    return std::sqrt(difference / norm);
}

QString resultDifference(KernelMode mode, const ComparedResult& theirs, const ComparedResult& mine,
                         std::int64_t predictionsPerSample) {
    return mode == KernelMode::Verifiable ? exactDifference(theirs, mine)
                                          : toleratedDifference(theirs, mine, predictionsPerSample);
}

std::int64_t predictionsPerSample(const data::Manifest& manifest) {
    std::int64_t n = 1;
    for (const std::int64_t d : manifest.labelShape) n *= std::max<std::int64_t>(1, d);
    return n;
}

}  // namespace raven::coordinator
