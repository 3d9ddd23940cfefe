#include "data/Dataset.h"

#include "base/Error.h"

#include <cmath>

namespace raven::data {

std::string toString(ElementType type) {
    switch (type) {
        case ElementType::U8:
            return "u8";
        case ElementType::I32:
            return "i32";
        case ElementType::F32:
            return "f32";
    }
    RAVEN_ASSERT(false, "unknown element type");
}

ElementType elementTypeFromString(const std::string& s) {
    if (s == "u8") return ElementType::U8;
    if (s == "i32") return ElementType::I32;
    if (s == "f32") return ElementType::F32;
    fail("unknown element type '" + s + "'", "use u8, i32 or f32");
}

std::int64_t elementBytes(ElementType type) { return type == ElementType::U8 ? 1 : 4; }

std::vector<std::string> numberedClasses(std::int64_t n, const std::string& origin) {
    RAVEN_CHECK(n <= kMaxClasses,
                (origin.empty() ? std::string() : origin + ": ") + "label " + std::to_string(n - 1) + " would make " +
                    std::to_string(n) + " classes, more than Raven's limit of " + std::to_string(kMaxClasses),
                "labels are class indices 0, 1, 2, ...: check that the right column or file holds the labels");
    std::vector<std::string> names;
    for (std::int64_t i = 0; i < n; ++i) names.push_back(std::to_string(i));
    return names;
}

namespace {
void validateSplit(const Samples& s, const char* split, const Dataset& ds, const std::string& origin) {
    const auto classes = static_cast<std::int64_t>(ds.classes.size());
    const auto& labels = s.allLabels();
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] < 0 || labels[i] >= classes)
            fail(origin + ": " + split + " sample " + std::to_string(i / s.labelSize()) + " has label " +
                     std::to_string(labels[i]) + " but there are " + std::to_string(classes) + " classes",
                 "labels must be class indices 0.." + std::to_string(classes - 1) +
                     "; check that the labels file belongs to the data");
    }
    const auto& x = s.allFeatures();
    for (std::size_t i = 0; i < x.size(); ++i) {
        const float v = x[i];
        bool ok = std::isfinite(v);
        if (ok && ds.elementType == ElementType::U8) ok = v >= 0 && v <= 255 && v == std::floor(v);
        if (ok && ds.elementType == ElementType::I32) ok = v == std::floor(v) && std::fabs(v) <= 16777216.0f;
        if (!ok)
            fail(origin + ": " + split + " sample " + std::to_string(i / s.featureSize()) + " has feature value " +
                     std::to_string(v) + " that is not a finite " + toString(ds.elementType) + " value",
                 "remove NaN/infinite values from the source data");
    }
}
}  // namespace

void Dataset::validate(const std::string& origin) const {
    RAVEN_CHECK(train.featureShape() == test.featureShape() && train.labelShape() == test.labelShape(),
                origin + ": train samples have shape " + shapeString(train.featureShape()) + " -> " +
                    shapeString(train.labelShape()) + " but test samples " + shapeString(test.featureShape()) + " -> " +
                    shapeString(test.labelShape()),
                "train and test files must hold the same kind of samples");
    RAVEN_CHECK(!classes.empty(), origin + ": the dataset has no classes", "a dataset needs at least one label value");
    validateSplit(train, "train", *this, origin);
    validateSplit(test, "test", *this, origin);
}

}  // namespace raven::data
