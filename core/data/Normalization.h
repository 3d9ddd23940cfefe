#pragma once
// Normalization: x' = (x - mean[c]) / std[c], stored with the dataset (and in its manifest) so that
// training, evaluation and every contributor apply exactly the same transform.
//
// Samples keep the values as imported (pixels 0..255, CSV numbers, token ids); the normalization is
// applied when a batch is built (see Batch.h), never baked into shards. That keeps shards small
// (pixels travel as bytes) and lets one dataset be re-normalized without re-importing.
//
// Kinds:
//  - None: identity (token ids of a text corpus).
//  - Global: one mean and std over every feature value.
//  - PerChannel: one mean and std per index of the first axis of the sample shape: the colour
//    channel of a [C,H,W] image, or each column of a flat [D] feature vector.
// Statistics are fitted on the training split only, so that the test split stays unseen. A
// constant channel (std 0) gets std 1, so that it maps to 0 rather than to infinity.
#include "data/Samples.h"

#include <span>
#include <string>
#include <vector>

namespace raven::data {

enum class NormalizationKind { None, Global, PerChannel };

std::string toString(NormalizationKind kind);                         // "none", "global", "per-channel"
NormalizationKind normalizationKindFromString(const std::string& s);  // raven::Error if unknown

struct Normalization {
    NormalizationKind kind = NormalizationKind::None;
    std::vector<float> mean;  // 1 entry (Global) or one per channel (PerChannel); empty for None
    std::vector<float> std;

    // Statistics of `samples` (accumulated in double).
    static Normalization fit(const Samples& samples, NormalizationKind kind);

    // Normalizes one sample of `shape` in place.
    void apply(std::span<float> sample, const Shape& shape) const;

    bool operator==(const Normalization&) const = default;
};

}  // namespace raven::data
