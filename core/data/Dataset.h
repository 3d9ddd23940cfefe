#pragma once
// Dataset: what a requester imports and Raven trains on.
//
//   Dataset ds = importIdxDirectory("/usr/share/datasets/fashion-mnist");   // or CSV, .npy, ...
//   ds.train.count();            // 60000 samples of shape [1,28,28], scalar labels 0..9
//   ds.classes[ds.train.label(0)]; // "Ankle boot"
//   Manifest m = publishDataset(ds, store);   // content-addressed shards + manifest (Sharding.h)
//
// A dataset is two Samples blocks (train and test) that share one feature shape and label shape,
// the class names (for a text corpus: the vocabulary, one entry per token id), the normalization
// fitted on the training split (Normalization.h) and the element type its features travel as in
// shards (bytes for pixels and small vocabularies, int32 for larger vocabularies, float32 otherwise).
#include "data/Normalization.h"
#include "data/Samples.h"

#include <string>
#include <vector>

namespace raven::data {

// How features are stored in a shard. In memory they are always float32 (see Samples.h).
enum class ElementType : std::uint32_t { U8 = 1, I32 = 2, F32 = 3 };
std::string toString(ElementType type);                   // "u8", "i32", "f32"
ElementType elementTypeFromString(const std::string& s);  // raven::Error if unknown
std::int64_t elementBytes(ElementType type);

struct Dataset {
    std::string name;
    std::vector<std::string> classes;  // label value k names classes[k]
    Normalization normalization;
    ElementType elementType = ElementType::F32;
    Samples train;
    Samples test;

    const Shape& featureShape() const { return train.featureShape(); }
    const Shape& labelShape() const { return train.labelShape(); }

    // Checks what every importer and loader must guarantee: both splits share shapes, every label
    // is a valid class index, every feature is finite and exactly representable in elementType.
    // `origin` names the source in the raven::Error thrown otherwise.
    void validate(const std::string& origin) const;
};

// The most classes a dataset may have: far above any real classifier or vocabulary (ImageNet-21k has
// 21,841 classes, large tokenizers about 256k), low enough that a label read from a file cannot make
// Raven build billions of class names.
inline constexpr std::int64_t kMaxClasses = std::int64_t{1} << 20;

// Class names "0", "1", ... "n-1", for formats that carry no names. More than kMaxClasses (a label
// of n-1 read from a file) is a raven::Error; `origin` names that file in it.
std::vector<std::string> numberedClasses(std::int64_t n, const std::string& origin = {});

}  // namespace raven::data
