#include "data/Samples.h"

#include "base/Checked.h"
#include "base/Error.h"

namespace raven::data {

std::int64_t elementCount(const Shape& shape) {
    const auto n = checkedProduct(shape);
    if (!n)
        fail("shape " + shapeString(shape) + " has more elements than fit in 64 bits",
             "the file or manifest that gave this shape is corrupt or crafted: use a real dataset");
    return *n;
}

std::string shapeString(const Shape& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ",";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

Samples::Samples(Shape featureShape, Shape labelShape)
    : featureShape_(std::move(featureShape)), labelShape_(std::move(labelShape)) {
    for (auto d : featureShape_) RAVEN_ASSERT(d > 0, "feature shape " + shapeString(featureShape_));
    for (auto d : labelShape_) RAVEN_ASSERT(d > 0, "label shape " + shapeString(labelShape_));
    featureSize_ = elementCount(featureShape_);
    labelSize_ = elementCount(labelShape_);
}

std::span<const float> Samples::features(std::int64_t i) const {
    RAVEN_ASSERT(i >= 0 && i < count_, "sample index out of range");
    return {features_.data() + i * featureSize_, static_cast<std::size_t>(featureSize_)};
}

std::span<const std::int32_t> Samples::labels(std::int64_t i) const {
    RAVEN_ASSERT(i >= 0 && i < count_, "sample index out of range");
    return {labels_.data() + i * labelSize_, static_cast<std::size_t>(labelSize_)};
}

std::int32_t Samples::label(std::int64_t i) const {
    RAVEN_ASSERT(labelShape_.empty(), "label() needs scalar labels");
    return labels(i)[0];
}

void Samples::reserve(std::int64_t samples) {
    features_.reserve(static_cast<std::size_t>(samples * featureSize_));
    labels_.reserve(static_cast<std::size_t>(samples * labelSize_));
}

void Samples::append(std::span<const float> features, std::span<const std::int32_t> labels) {
    RAVEN_ASSERT(static_cast<std::int64_t>(features.size()) == featureSize_, "feature size");
    RAVEN_ASSERT(static_cast<std::int64_t>(labels.size()) == labelSize_, "label size");
    features_.insert(features_.end(), features.begin(), features.end());
    labels_.insert(labels_.end(), labels.begin(), labels.end());
    ++count_;
}

void Samples::assign(std::vector<float> features, std::vector<std::int32_t> labels) {
    RAVEN_ASSERT(featureSize_ > 0, "assign() on samples without a shape");
    const auto n = static_cast<std::int64_t>(features.size()) / featureSize_;
    RAVEN_ASSERT(n * featureSize_ == static_cast<std::int64_t>(features.size()), "partial sample");
    RAVEN_ASSERT(n * labelSize_ == static_cast<std::int64_t>(labels.size()), "label count");
    features_ = std::move(features);
    labels_ = std::move(labels);
    count_ = n;
}

Samples Samples::slice(std::int64_t begin, std::int64_t n) const {
    RAVEN_ASSERT(begin >= 0 && n >= 0 && begin + n <= count_, "slice out of range");
    Samples out(featureShape_, labelShape_);
    out.features_.assign(features_.begin() + begin * featureSize_, features_.begin() + (begin + n) * featureSize_);
    out.labels_.assign(labels_.begin() + begin * labelSize_, labels_.begin() + (begin + n) * labelSize_);
    out.count_ = n;
    return out;
}

Samples Samples::gather(std::span<const std::int64_t> indices) const {
    Samples out(featureShape_, labelShape_);
    out.reserve(static_cast<std::int64_t>(indices.size()));
    for (auto i : indices) out.append(features(i), labels(i));
    return out;
}

}  // namespace raven::data
