#pragma once
// A dataset on disk as the CLI keeps it: DIR/manifest.json and DIR/shards/<sha256>. Training also
// accepts a folder of IDX files directly (such as /usr/share/datasets/fashion-mnist) and imports it
// in memory, so that the quick start needs no import step.
#include <QString>

#include "data/Dataset.h"
#include "data/Manifest.h"

namespace raven::cli {

class DatasetDirectory {
public:
    explicit DatasetDirectory(QString path) : path_(std::move(path)) {}
    const QString& path() const { return path_; }

    // Writes the shards and the manifest; returns the manifest.
    data::Manifest publish(const data::Dataset& dataset, int shardSize) const;
    // The manifest; raven::Error if the directory holds none.
    data::Manifest manifest() const;
    // Every sample back from the shards, each verified by hash.
    data::Dataset load() const;

    // A dataset directory, or a folder of IDX files imported on the fly.
    static data::Dataset open(const QString& path);

    QString manifestPath() const;
    QString shardsPath() const;

private:
    QString path_;
};

}  // namespace raven::cli
