#include "coordinator/DataLibrary.h"

#include <QDir>
#include <QFile>
#include <QSet>

#include "base/Error.h"
#include "coordinator/DurableFile.h"
#include "data/Shard.h"
#include "nn/Architecture.h"
#include "protocol/Chunking.h"

namespace raven::coordinator {

namespace {

QString makeDir(const QString& path) {
    RAVEN_CHECK(QDir().mkpath(path), "cannot create " + path.toStdString(), "check the data directory's permissions");
    return path;
}

std::vector<const data::ShardRef*> allShards(const data::Manifest& m) {
    std::vector<const data::ShardRef*> out;
    for (const data::ShardRef& s : m.train.shards) out.push_back(&s);
    for (const data::ShardRef& s : m.test.shards) out.push_back(&s);
    return out;
}

}  // namespace

DataLibrary::DataLibrary(const QString& dataDir)
    : datasetsDir_(makeDir(QDir(dataDir).filePath("datasets"))),
      specsDir_(makeDir(QDir(dataDir).filePath("specs"))),
      shards_(QDir(dataDir).filePath("shards")) {}

QString DataLibrary::datasetPath(const QString& id) const {
    RAVEN_CHECK(data::ShardStore::isShardName(id), "\"" + id.left(80).toStdString() + "\" is not a dataset id",
                "a dataset id is the 64 lowercase hex digits UploadDataset answered");
    return QDir(datasetsDir_).filePath(id + ".json");
}

QString DataLibrary::specPath(const QString& sha256) const {
    RAVEN_CHECK(data::ShardStore::isShardName(sha256),
                "\"" + sha256.left(80).toStdString() + "\" is not a model spec name",
                "a model spec is named by the 64 lowercase hex digits UploadModelSpec answered");
    return QDir(specsDir_).filePath(sha256 + ".json");
}

DataLibrary::DatasetUpload DataLibrary::addDataset(const QByteArray& manifestJson, const QStringList& declaredShards) {
    const data::Manifest manifest = data::Manifest::fromBytes(manifestJson, "the uploaded manifest");
    if (!declaredShards.isEmpty()) {
        QSet<QString> listed;
        for (const data::ShardRef* s : allShards(manifest)) listed.insert(s->hash);
        const QSet<QString> declared(declaredShards.begin(), declaredShards.end());
        RAVEN_CHECK(declared == listed,
                    "UploadDataset lists " + std::to_string(declared.size()) + " shards that are not the manifest's " +
                        std::to_string(listed.size()),
                    "send the shard hashes of the manifest's train and test splits, or none");
    }
    const QString path = datasetPath(manifest.id);
    if (!QFile::exists(path)) writeDurably(path, manifest.toBytes());
    manifests_[manifest.id] = manifest;
    return {manifest.id, missingShards(manifest)};
}

bool DataLibrary::hasDataset(const QString& id) const {
    return manifests_.count(id) > 0 || (data::ShardStore::isShardName(id) && QFile::exists(datasetPath(id)));
}

const data::Manifest& DataLibrary::manifest(const QString& id) const {
    auto it = manifests_.find(id);
    if (it != manifests_.end()) return it->second;
    const QString path = datasetPath(id);
    RAVEN_CHECK(QFile::exists(path), "no dataset " + id.toStdString() + " on this coordinator",
                "upload it first (UploadDataset)");
    data::Manifest loaded = data::Manifest::load(path);
    RAVEN_CHECK(loaded.id == id, path.toStdString() + " holds dataset " + loaded.id.toStdString(),
                "the file was renamed or edited; upload the dataset again");
    return manifests_.emplace(id, std::move(loaded)).first->second;
}

QByteArray DataLibrary::manifestBytes(const QString& id) const {
    manifest(id);  // checks that it exists and is sound
    return readWhole(datasetPath(id));
}

QStringList DataLibrary::missingShards(const data::Manifest& m) const {
    QStringList missing;
    QSet<QString> seen;
    for (const data::ShardRef* s : allShards(m)) {
        if (seen.contains(s->hash)) continue;
        seen.insert(s->hash);
        if (!shards_.contains(s->hash)) missing << s->hash;
    }
    return missing;
}

QString DataLibrary::addShard(const QString& datasetId, const QByteArray& bytes) {
    const data::Manifest& m = manifest(datasetId);
    const QString hash = protocol::sha256Hex(bytes);
    const data::ShardRef* ref = nullptr;
    for (const data::ShardRef* s : allShards(m))
        if (s->hash == hash) ref = s;
    RAVEN_CHECK(ref != nullptr,
                "shard " + hash.toStdString() + " is not one of dataset " + datasetId.toStdString() + "'s",
                "upload the shards UploadDataset named as missing");
    if (shards_.contains(hash)) return hash;
    const data::Shard shard = data::decodeShard(bytes, "uploaded shard " + hash.toStdString());
    RAVEN_CHECK(shard.elementType == m.elementType && shard.samples.featureShape() == m.featureShape &&
                    shard.samples.labelShape() == m.labelShape && shard.samples.count() == ref->samples,
                "uploaded shard " + hash.toStdString() + " does not match its manifest (shapes, element type or " +
                    std::to_string(ref->samples) + " samples)",
                "re-publish the dataset and upload the shards it lists");
    return shards_.put(bytes);
}

QString DataLibrary::addSpec(const std::string& json, const std::string& name) {
    nn::Architecture architecture(nn::ModelSpec::parse(json, name.empty() ? "the uploaded spec" : name));
    const QByteArray text = QByteArray::fromStdString(json);
    const QString sha = protocol::sha256Hex(text);
    const QString path = specPath(sha);
    if (!QFile::exists(path)) writeDurably(path, text);
    return sha;
}

std::optional<std::string> DataLibrary::spec(const QString& sha256) const {
    if (!data::ShardStore::isShardName(sha256)) return std::nullopt;
    const QString path = specPath(sha256);
    if (!QFile::exists(path)) return std::nullopt;
    return readWhole(path).toStdString();
}

}  // namespace raven::coordinator
