#include "coordinator/ResultPlausibility.h"

#include <algorithm>
#include <cmath>

namespace raven::coordinator {

ResultFacts ResultFacts::of(const std::vector<float>& gradient, std::uint64_t samples, double loss,
                            std::uint64_t correct) {
    ResultFacts f;
    f.samples = samples;
    f.correct = correct;
    f.loss = loss;
    f.finite = std::isfinite(loss);
    double sum = 0.0;  // in double: float squares of huge values would overflow before the check
    for (std::size_t i = 0; i < gradient.size(); ++i) {
        const double v = gradient[i];
        if (!std::isfinite(v)) {
            f.finite = false;
            f.firstNonFinite = static_cast<std::int64_t>(i);
            break;
        }
        sum += v * v;
    }
    f.gradientNorm = std::sqrt(sum);
    return f;
}

std::optional<QString> ResultPlausibility::judge(const ResultFacts& f, std::uint64_t unitSamples,
                                                 std::uint64_t predictionsPerSample) const {
    if (f.samples != unitSamples)
        return QStringLiteral("the result sums over %1 samples but the unit's shards hold %2")
            .arg(f.samples)
            .arg(unitSamples);
    if (!std::isfinite(f.loss)) return QStringLiteral("the result's loss is not finite");
    if (!f.finite) return QStringLiteral("gradient value %1 is not finite").arg(f.firstNonFinite);
    if (f.loss < 0.0) return QStringLiteral("the result's loss %1 is negative; Raven's losses never are").arg(f.loss);
    if (f.correct > f.samples * std::max<std::uint64_t>(1, predictionsPerSample))
        return QStringLiteral("the result counts %1 correct predictions among %2 samples of %3 predictions each")
            .arg(f.correct)
            .arg(f.samples)
            .arg(std::max<std::uint64_t>(1, predictionsPerSample));
    if (f.samples == 0) return std::nullopt;
    const double n = static_cast<double>(f.samples);
    if (f.gradientNorm == 0.0 && f.loss > 0.0)
        return QStringLiteral("the gradient is zero while the loss is %1: no work was done").arg(f.loss);
    const double norm = f.gradientNorm / n;
    const double normBound = normPerSample_.empty() ? kFirstNormBound : kNormFactor * median(normPerSample_);
    if (norm > normBound)
        return QStringLiteral("the gradient's norm per sample is %1, above the plausible %2 for this job")
            .arg(norm, 0, 'g', 4)
            .arg(normBound, 0, 'g', 4);
    const double loss = f.loss / n;
    const double lossBound =
        lossPerSample_.empty() ? kFirstLossBound : kLossFactor * median(lossPerSample_) + kLossSlack;
    if (loss > lossBound)
        return QStringLiteral("the loss per sample is %1, above the plausible %2 for this job")
            .arg(loss, 0, 'g', 4)
            .arg(lossBound, 0, 'g', 4);
    return std::nullopt;
}

void ResultPlausibility::learn(const ResultFacts& f) {
    if (f.samples == 0 || !f.finite) return;
    const double n = static_cast<double>(f.samples);
    normPerSample_.push_back(f.gradientNorm / n);
    lossPerSample_.push_back(f.loss / n);
    if (normPerSample_.size() > kWindow) normPerSample_.pop_front();
    if (lossPerSample_.size() > kWindow) lossPerSample_.pop_front();
}

double ResultPlausibility::median(const std::deque<double>& values) {
    std::vector<double> sorted(values.begin(), values.end());
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
    return sorted[sorted.size() / 2];
}

}  // namespace raven::coordinator
