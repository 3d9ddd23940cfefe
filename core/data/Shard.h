#pragma once
// Shard: a few samples (default 32) serialized, named by the SHA-256 of its bytes.
//
// Shards are what the coordinator hands out and contributors cache: immutable, verifiable (a
// shard whose bytes do not hash to its name is corrupt), and deduplicated for free (equal samples
// give equal bytes give equal names). The encoding is deterministic: the same samples and element
// type always give the same bytes, on every machine.
//
// Binary format, version 1 (all integers little-endian; docs/formats.md has the same table):
//   offset  size        field
//   0       8           magic "RVNSHARD"
//   8       4   u32     format version (1)
//   12      4   u32     feature element type: 1 = u8, 2 = i32, 3 = f32 (IEEE-754)
//   16      4   u32     sample count N
//   20      4   u32     feature rank r, then r x u32 feature dimensions
//   ..      4   u32     label rank q (0 = one scalar label per sample), then q x u32 label dimensions
//   ..      N * prod(feature dims) * size(type)   features, sample-major, row-major
//   ..      N * prod(label dims) * 4              labels, i32
// Nothing may follow the labels. Features are stored unnormalized (Normalization.h).
#include "data/Dataset.h"

#include <QByteArray>
#include <QString>

namespace raven::data {

inline constexpr std::uint32_t kShardFormatVersion = 1;

struct Shard {
    ElementType elementType = ElementType::F32;
    Samples samples;
};

// Serializes samples; every feature must be exactly representable in `type` (asserted: importers
// choose the type from the data, Dataset::validate checks it).
QByteArray encodeShard(const Samples& samples, ElementType type);

// Parses and checks a shard's bytes. `origin` (e.g. "shard 3fa2... in /path") names it in errors.
Shard decodeShard(const QByteArray& bytes, const std::string& origin);

// Lowercase hex SHA-256 of the bytes: a shard's name.
QString contentHash(const QByteArray& bytes);

}  // namespace raven::data
