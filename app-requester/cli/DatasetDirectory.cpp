#include "DatasetDirectory.h"

#include <QDir>
#include <QFileInfo>

#include "base/Error.h"
#include "data/IdxImporter.h"
#include "data/Sharding.h"

namespace raven::cli {

QString DatasetDirectory::manifestPath() const { return QDir(path_).filePath("manifest.json"); }
QString DatasetDirectory::shardsPath() const { return QDir(path_).filePath("shards"); }

data::Manifest DatasetDirectory::publish(const data::Dataset& dataset, int shardSize) const {
    RAVEN_CHECK(QDir().mkpath(path_), "cannot create the dataset directory " + path_.toStdString(),
                "check the path and your permissions");
    data::ShardStore store(shardsPath());
    data::Manifest manifest = data::publishDataset(dataset, store, shardSize);
    manifest.save(manifestPath());
    return manifest;
}

data::Manifest DatasetDirectory::manifest() const {
    RAVEN_CHECK(QFileInfo::exists(manifestPath()), path_.toStdString() + " is not a Raven dataset (no manifest.json)",
                "create one with `raven dataset import --format ... --out " + path_.toStdString() + " SOURCE`");
    return data::Manifest::load(manifestPath());
}

data::Dataset DatasetDirectory::load() const {
    const data::Manifest m = manifest();
    return data::loadDataset(m, data::ShardStore(shardsPath()));
}

data::Dataset DatasetDirectory::open(const QString& path) {
    const DatasetDirectory dir(path);
    if (QFileInfo::exists(dir.manifestPath())) return dir.load();
    RAVEN_CHECK(QFileInfo(path).isDir(), "no dataset at " + path.toStdString(),
                "give a dataset directory made by `raven dataset import`, or a folder of IDX files");
    return data::importIdxDirectory(path);
}

}  // namespace raven::cli
