#pragma once
// DataLibrary: what requesters upload and workers fetch, in the coordinator's data directory.
//
//   shards/<sha256>        shard bytes (data::ShardStore), shared by every dataset that lists them
//   datasets/<id>.json     manifests, named by their dataset id
//   specs/<sha256>.json    model specs, named by the SHA-256 of their text as uploaded
//
//   DataLibrary library(dataDir);
//   auto [id, missing] = library.addDataset(manifestJson);   // only `missing` shards need uploading
//   library.addShard(id, shardBytes);                        // checked against the manifest
//   QString sha = library.addSpec(specJson, "mlp");          // parsed and built first
//
// Everything is content-addressed, so uploading again is free and never changes what a job uses.
// Every check of uploaded bytes throws raven::Error with the checker's message and hint.
#include <QByteArray>
#include <QString>
#include <QStringList>

#include <map>
#include <optional>
#include <string>

#include "data/Manifest.h"
#include "data/ShardStore.h"

namespace raven::coordinator {

class DataLibrary {
public:
    explicit DataLibrary(const QString& dataDir);

    data::ShardStore& shards() { return shards_; }
    const data::ShardStore& shards() const { return shards_; }

    struct DatasetUpload {
        QString id;
        QStringList missingShards;  // train then test, in manifest order, without repeats
    };
    // Verifies the manifest (its id names its content) and stores it. `declaredShards`, when not
    // empty, must be exactly the manifest's shards.
    DatasetUpload addDataset(const QByteArray& manifestJson, const QStringList& declaredShards);
    bool hasDataset(const QString& id) const;
    // raven::Error when the dataset was never uploaded.
    const data::Manifest& manifest(const QString& id) const;
    QByteArray manifestBytes(const QString& id) const;
    QStringList missingShards(const data::Manifest& manifest) const;

    // Stores one of the dataset's shards after checking its hash is listed and its samples have the
    // manifest's shapes, element type and count. Returns the shard's hash.
    QString addShard(const QString& datasetId, const QByteArray& bytes);

    // Parses the spec and builds its architecture (every layer checked against its input shape);
    // stores the text and returns its SHA-256.
    QString addSpec(const std::string& json, const std::string& name);
    // The spec's text as uploaded; nullopt when unknown.
    std::optional<std::string> spec(const QString& sha256) const;

private:
    QString datasetPath(const QString& id) const;
    QString specPath(const QString& sha256) const;

    QString datasetsDir_;
    QString specsDir_;
    data::ShardStore shards_;
    mutable std::map<QString, data::Manifest> manifests_;  // cache of datasets/*.json
};

}  // namespace raven::coordinator
