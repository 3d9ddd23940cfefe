#pragma once
// Manifest: the JSON description of a sharded dataset, all a coordinator or contributor needs to
// know about it without reading a shard.
//
//   {
//     "format": "raven-dataset", "version": 1,
//     "id": "9c1e...",                       // SHA-256 of everything else (see below)
//     "name": "fashion-mnist",
//     "featureShape": [1, 28, 28], "labelShape": [], "elementType": "u8",
//     "classes": ["T-shirt/top", ...],
//     "normalization": {"kind": "per-channel", "mean": [72.94], "std": [90.02]},
//     "shardSize": 32,
//     "train": {"samples": 60000, "shards": [{"hash": "3fa2...", "samples": 32}, ...]},
//     "test":  {"samples": 10000, "shards": [...]}
//   }
//
// The dataset id is the lowercase hex SHA-256 of the manifest's compact JSON (keys sorted, no
// whitespace, as QJsonDocument::Compact writes it) without the "id" member. It therefore names the
// exact data (through the shard hashes, in order), its shapes, classes and normalization: two
// imports of the same files with the same options get the same id, and any edit changes it.
// Loading checks the id, the counts and the shard names, and refuses a manifest that disagrees.
#include "data/Dataset.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace raven::data {

struct ShardRef {
    QString hash;              // the shard's name in a ShardStore
    std::int64_t samples = 0;  // samples in it
    bool operator==(const ShardRef&) const = default;
};

struct SplitManifest {
    std::int64_t samples = 0;
    std::vector<ShardRef> shards;  // in order: sample k of the split is in the shard that covers k
    bool operator==(const SplitManifest&) const = default;
};

struct Manifest {
    QString id;
    std::string name;
    Shape featureShape;
    Shape labelShape;
    ElementType elementType = ElementType::F32;
    std::vector<std::string> classes;
    Normalization normalization;
    std::int64_t shardSize = 32;
    SplitManifest train;
    SplitManifest test;

    // The id that the content determines (what `id` must equal).
    QString computeId() const;
    // Fills in `id` from the content.
    void seal() { id = computeId(); }

    QJsonObject toJson() const;
    QByteArray toBytes() const;  // indented JSON, for files and people
    // Parses and checks a manifest (format, shapes, counts, shard names, id); `origin` names it in errors.
    static Manifest fromJson(const QJsonObject& json, const std::string& origin);
    static Manifest fromBytes(const QByteArray& bytes, const std::string& origin);

    // Written atomically (QSaveFile).
    void save(const QString& path) const;
    static Manifest load(const QString& path);

    bool operator==(const Manifest&) const = default;
};

}  // namespace raven::data
