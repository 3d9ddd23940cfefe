#include "data/Normalization.h"

#include "base/Error.h"

#include <cmath>

namespace raven::data {

std::string toString(NormalizationKind kind) {
    switch (kind) {
        case NormalizationKind::None:
            return "none";
        case NormalizationKind::Global:
            return "global";
        case NormalizationKind::PerChannel:
            return "per-channel";
    }
    RAVEN_ASSERT(false, "unknown normalization kind");
}

NormalizationKind normalizationKindFromString(const std::string& s) {
    if (s == "none") return NormalizationKind::None;
    if (s == "global") return NormalizationKind::Global;
    if (s == "per-channel") return NormalizationKind::PerChannel;
    fail("unknown normalization '" + s + "'", "use none, global or per-channel");
}

namespace {
// Features per channel: the product of all axes after the first (1 for a flat vector).
std::int64_t channelCount(const Shape& shape) { return shape.empty() ? 1 : shape[0]; }
}  // namespace

Normalization Normalization::fit(const Samples& samples, NormalizationKind kind) {
    Normalization n;
    n.kind = kind;
    if (kind == NormalizationKind::None) return n;
    const auto channels = kind == NormalizationKind::Global ? 1 : channelCount(samples.featureShape());
    // Each sample is `channels` contiguous runs of `run` values (one run for Global).
    const auto run = samples.featureSize() / channels;
    std::vector<double> sum(static_cast<std::size_t>(channels)), sumSq(static_cast<std::size_t>(channels));
    for (std::int64_t i = 0; i < samples.count(); ++i) {
        const float* x = samples.features(i).data();
        for (std::int64_t c = 0; c < channels; ++c) {
            double s = 0, sq = 0;  // per run first, so that long runs lose less precision
            for (std::int64_t k = 0; k < run; ++k) {
                const double v = x[c * run + k];
                s += v;
                sq += v * v;
            }
            sum[static_cast<std::size_t>(c)] += s;
            sumSq[static_cast<std::size_t>(c)] += sq;
        }
    }
    const double perChannelCount = double(samples.count()) * double(samples.featureSize()) / double(channels);
    for (std::int64_t c = 0; c < channels; ++c) {
        const double mean = perChannelCount > 0 ? sum[c] / perChannelCount : 0.0;
        const double var = perChannelCount > 0 ? std::max(0.0, sumSq[c] / perChannelCount - mean * mean) : 0.0;
        const double sd = std::sqrt(var);
        n.mean.push_back(static_cast<float>(mean));
        n.std.push_back(sd > 1e-12 ? static_cast<float>(sd) : 1.0f);
    }
    return n;
}

void Normalization::apply(std::span<float> sample, const Shape& shape) const {
    switch (kind) {
        case NormalizationKind::None:
            return;
        case NormalizationKind::Global: {
            RAVEN_ASSERT(mean.size() == 1 && std.size() == 1, "global normalization needs one mean and std");
            const float m = mean[0], inv = 1.0f / std[0];
            for (auto& v : sample) v = (v - m) * inv;
            return;
        }
        case NormalizationKind::PerChannel: {
            const auto channels = channelCount(shape);
            RAVEN_CHECK(static_cast<std::int64_t>(mean.size()) == channels && mean.size() == std.size(),
                        "per-channel normalization has " + std::to_string(mean.size()) +
                            " channels but samples of shape " + shapeString(shape) + " have " +
                            std::to_string(channels),
                        "the manifest's normalization does not belong to this data: re-import the dataset");
            const auto per = static_cast<std::int64_t>(sample.size()) / channels;
            for (std::int64_t c = 0; c < channels; ++c) {
                const float m = mean[c], inv = 1.0f / std[c];
                for (std::int64_t k = 0; k < per; ++k) {
                    auto& v = sample[static_cast<std::size_t>(c * per + k)];
                    v = (v - m) * inv;
                }
            }
            return;
        }
    }
}

}  // namespace raven::data
