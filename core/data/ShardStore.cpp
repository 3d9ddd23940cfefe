#include "data/ShardStore.h"

#include <cerrno>
#include <cstring>

#include "base/Error.h"
#include "data/FileBytes.h"

#include <QDir>
#include <QFile>
#include <QSaveFile>

namespace raven::data {

ShardStore::ShardStore(const QString& directory) : dir_(QDir::cleanPath(directory)) {
    RAVEN_CHECK(QDir().mkpath(dir_), "cannot create the shard store directory " + str(dir_),
                "check that the parent directory exists and is writable");
}

bool ShardStore::isShardName(const QString& name) {
    if (name.size() != 64) return false;
    for (QChar c : name)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

QString ShardStore::pathOf(const QString& hash) const { return dir_ + "/" + hash; }

bool ShardStore::contains(const QString& hash) const { return isShardName(hash) && QFile::exists(pathOf(hash)); }

QString ShardStore::put(const QByteArray& shardBytes) {
    const QString hash = contentHash(shardBytes);
    if (QFile::exists(pathOf(hash))) return hash;  // content-addressed: same name, same bytes
    QSaveFile file(pathOf(hash));
    RAVEN_CHECK(file.open(QIODevice::WriteOnly),
                "cannot write shard " + str(hash) + " in " + str(dir_) + ": " + str(file.errorString()),
                "check that the shard store directory is writable and the disk is not full");
    // QSaveFile reports a failed write (a full disk: ENOSPC) as "Unknown error"; the system's own
    // reason is taken from errno right after the write.
    errno = 0;
    const bool written = file.write(shardBytes) == shardBytes.size() && file.flush();
    const int cause = errno;
    RAVEN_CHECK(written,
                "cannot write shard " + str(hash) + " in " + str(dir_) + ": " +
                    (cause != 0 ? std::string(std::strerror(cause)) : str(file.errorString())),
                "check that the disk is not full");
    RAVEN_CHECK(file.commit(), "cannot write shard " + str(hash) + " in " + str(dir_) + ": " + str(file.errorString()),
                "check that the disk is not full");
    return hash;
}

QByteArray ShardStore::read(const QString& hash) const {
    RAVEN_CHECK(isShardName(hash), "'" + str(hash) + "' is not a shard name",
                "shard names are 64 lowercase hex digits (a SHA-256); the manifest may be damaged");
    QFile file(pathOf(hash));
    RAVEN_CHECK(file.exists(), "shard " + str(hash.left(8)) + "... is missing from " + str(dir_),
                "re-import the dataset into this store, or fetch the shard again");
    RAVEN_CHECK(file.open(QIODevice::ReadOnly),
                "cannot read shard " + str(hash.left(8)) + "... in " + str(dir_) + ": " + str(file.errorString()),
                "check the file's permissions");
    QByteArray bytes = file.readAll();
    RAVEN_CHECK(contentHash(bytes) == hash,
                "shard " + str(hash.left(8)) + "... in " + str(dir_) +
                    ": content hash does not match its name; the file is corrupt",
                "delete it (" + str(pathOf(hash)) + ") and re-import or re-fetch");
    return bytes;
}

Shard ShardStore::load(const QString& hash) const {
    return decodeShard(read(hash), "shard " + str(hash.left(8)) + "... in " + str(dir_));
}

}  // namespace raven::data
