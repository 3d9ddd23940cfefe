#pragma once
// ShardStore: a directory of shards, each in a file named by its content hash.
//
//   /var/lib/raven/shards/3fa2c0...e9   (64 lowercase hex digits, the SHA-256 of the file's bytes)
//
// Writing is atomic (QSaveFile: a crash leaves the old state or the new file, never half a shard)
// and idempotent (a shard already present is not rewritten). Reading always verifies the hash, so a
// file damaged on disk or in transit is caught before its samples reach a model:
//   shard 3fa2... in /path: content hash does not match its name; the file is corrupt: delete it
//   and re-import or re-fetch
#include "data/Shard.h"

#include <QString>

namespace raven::data {

class ShardStore {
public:
    // Creates the directory if needed (raven::Error if that fails).
    explicit ShardStore(const QString& directory);

    const QString& directory() const { return dir_; }

    // Stores the bytes under their hash and returns the hash.
    QString put(const QByteArray& shardBytes);
    bool contains(const QString& hash) const;
    // The verified bytes of a shard; raven::Error if missing or corrupt.
    QByteArray read(const QString& hash) const;
    // read() + decodeShard().
    Shard load(const QString& hash) const;
    QString pathOf(const QString& hash) const;

    // True for 64 lowercase hex digits.
    static bool isShardName(const QString& name);

private:
    QString dir_;
};

}  // namespace raven::data
