#pragma once
// Text corpus importer: a UTF-8 text for a character-level language model.
//
// The vocabulary is every distinct character (Unicode code point) of the text, sorted by code point;
// token id k is the character classes[k] (its UTF-8 string). The text becomes a sequence of ids
// t[0..L), cut into windows of the context length T, one every `stride` characters:
//   sample i: features = t[s .. s+T)        (shape [T], the ids as floats, see Samples.h)
//             labels   = t[s+1 .. s+T+1)    (shape [T], the next id at every position)
// with s = i * stride, so a causal model learns to predict each next character. The default stride
// T gives windows that do not overlap, so the seeded train/test split (Split.h) never puts the same
// text in both. No normalization: ids are indices, not measurements. Ids travel as bytes in shards
// when the vocabulary has at most 256 characters, else as int32.
// Invalid UTF-8 is a raven::Error with its byte offset and line.
#include "data/Dataset.h"

#include <QString>

namespace raven::data {

struct TextCorpusImportOptions {
    std::string name;  // defaults to the file's base name
    int contextLength = 64;
    int stride = 0;  // 0: contextLength
    double testFraction = 0.1;
    std::uint64_t seed = 1;
};

Dataset importTextCorpus(const QString& path, const TextCorpusImportOptions& options = {});

// The same, from text already in memory; `origin` names it in errors.
Dataset textCorpusDataset(const QByteArray& utf8, const std::string& origin, const TextCorpusImportOptions& options);

// Decodes UTF-8 into code points; invalid input is a raven::Error naming `origin`, the byte offset and line.
std::vector<char32_t> decodeUtf8(const QByteArray& utf8, const std::string& origin);
std::string encodeUtf8(char32_t c);

}  // namespace raven::data
