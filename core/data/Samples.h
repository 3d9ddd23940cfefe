#pragma once
// Samples: a block of equally shaped samples with their integer labels, the unit that datasets,
// splits and shards are made of.
//
// The model:
//  - Every sample has the same feature shape (e.g. [1,28,28] for a grayscale image, [784] for a
//    flat vector, [T] for a context of T token ids) and the same label shape: [] (scalar, one class
//    index, the usual classification target) or [T] (one target per position, e.g. the T next-token
//    ids of a character-level language model).
//  - Features are float32 in memory, whatever they were on disk, so that a model sees one type.
//    Token ids are stored as floats too: every id below 2^24 is exact, and the embedding layer turns
//    them back into indices. Labels are int32 class (or token) indices, never negative.
//  - Storage is row-major and contiguous: sample i's features are
//    features()[i*featureSize() .. (i+1)*featureSize()), its labels likewise with labelSize().
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace raven::data {

using Shape = std::vector<std::int64_t>;

// Number of elements in a shape; 1 for the scalar shape []. A product that does not fit in 64 bits
// (a crafted header's shape) is a raven::Error, never a wrapped count.
std::int64_t elementCount(const Shape& shape);
// "[1,28,28]", "[]": for messages.
std::string shapeString(const Shape& shape);

class Samples {
public:
    Samples() = default;
    Samples(Shape featureShape, Shape labelShape);

    const Shape& featureShape() const { return featureShape_; }
    const Shape& labelShape() const { return labelShape_; }
    std::int64_t featureSize() const { return featureSize_; }  // floats per sample
    std::int64_t labelSize() const { return labelSize_; }      // labels per sample (1 if scalar)
    std::int64_t count() const { return count_; }
    bool empty() const { return count_ == 0; }

    std::span<const float> features(std::int64_t i) const;
    std::span<const std::int32_t> labels(std::int64_t i) const;
    // Label of sample i when the label shape is scalar.
    std::int32_t label(std::int64_t i) const;

    const std::vector<float>& allFeatures() const { return features_; }
    const std::vector<std::int32_t>& allLabels() const { return labels_; }

    void reserve(std::int64_t samples);
    // Appends one sample; the spans must hold featureSize() and labelSize() elements.
    void append(std::span<const float> features, std::span<const std::int32_t> labels);
    // Takes whole arrays (count * featureSize floats, count * labelSize labels) without copying.
    void assign(std::vector<float> features, std::vector<std::int32_t> labels);

    // Samples [begin, begin + n) as a new block.
    Samples slice(std::int64_t begin, std::int64_t n) const;
    // The samples at the given indices, in that order.
    Samples gather(std::span<const std::int64_t> indices) const;

    bool operator==(const Samples& other) const = default;

private:
    Shape featureShape_;
    Shape labelShape_;
    std::int64_t featureSize_ = 0;
    std::int64_t labelSize_ = 1;
    std::int64_t count_ = 0;
    std::vector<float> features_;
    std::vector<std::int32_t> labels_;
};

}  // namespace raven::data
