#include "coordinator/UnitSizing.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <optional>
#include <sstream>
#include <utility>

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

namespace {

// The figures' median (the upper one of an even count) and how many there were, the nonsense a clock
// or a peer can produce (not finite, or below `least`) left out; nullopt when none is left.
std::optional<std::pair<double, int>> medianOf(std::vector<double> figures, double least) {
    std::erase_if(figures, [least](double x) { return !std::isfinite(x) || x < least; });
    if (figures.empty()) return std::nullopt;
    const auto middle = figures.begin() + static_cast<std::ptrdiff_t>(figures.size() / 2);
    std::nth_element(figures.begin(), middle, figures.end());
    return std::pair(*middle, static_cast<int>(figures.size()));
}

}  // namespace

UnitSizing UnitSizing::forRoundTrips(std::vector<double> measuredMs) const {
    UnitSizing sized = *this;
    const auto measured = medianOf(std::move(measuredMs), 0.0);
    if (!measured || !fromFleet) return sized;
    // A day is far beyond any link: what is above it is a clock's or a peer's nonsense, not a network.
    const double median = std::min(measured->first, 86'400'000.0);
    double bucket = 1.0;
    while (bucket < median) bucket *= 2.0;
    sized.roundTripMs = std::max(roundTripMs, bucket);
    sized.roundTripMeasuredOver = measured->second;
    return sized;
}

UnitSizing UnitSizing::forUploadRates(std::vector<double> measuredMbitPerS) const {
    UnitSizing sized = *this;
    const auto measured = medianOf(std::move(measuredMbitPerS), std::numeric_limits<double>::min());
    if (!measured || !fromFleet) return sized;
    sized.linkMeasuredOver = measured->second;
    if (measured->first >= linkMbitPerS) return sized;  // as fast as nominal or faster: the nominal figure
    // Rounded down from the median; below a kilobit a second is no link a unit could cross anyway.
    const double median = std::max(measured->first, 1.0 / 1024.0);
    double bucket = 1.0;
    while (bucket > median) bucket /= 2.0;
    while (bucket * 2.0 <= median) bucket *= 2.0;
    sized.linkMbitPerS = bucket;
    return sized;
}

std::string UnitSizing::describe() const {
    const auto figure = [](double value) {
        std::ostringstream out;
        out << std::setprecision(value < 10 ? 2 : 6) << value;
        return out.str();
    };
    const auto source = [this](int measuredOver) -> std::string {
        if (measuredOver > 0)
            return " (measured over " + std::to_string(measuredOver) +
                   (measuredOver == 1 ? " contributor)" : " contributors)");
        return fromFleet ? " (nominal: no contributor measured)" : " (nominal: --unit-nominal-only)";
    };
    return figure(roundTripMs) + " ms round trip" + source(roundTripMeasuredOver) + ", " + figure(linkMbitPerS) +
           " Mbit/s" + source(linkMeasuredOver) + ", " + figure(workerGflops) + " GFLOP/s per worker";
}

double gradientBytesPerValue(int encoding) {
    if (encoding == wire::GRADIENT_ENCODING_INT8_BLOCK) return 1.0 + 4.0 / 256.0;  // tensor/BlockInt8.h
    return encoding == wire::GRADIENT_ENCODING_FP16 || encoding == wire::GRADIENT_ENCODING_BF16 ? 2.0 : 4.0;
}

}  // namespace raven::coordinator
