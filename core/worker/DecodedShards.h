#pragma once
// DecodedShards: the worker's bounded in-memory cache of decoded shards, by content hash, above the
// disk cache (ContentCache.h). A shard's bytes are verified by their hash once, where they enter
// (ContentFetcher: the transfer's SHA-256, or the disk cache's own checksum), decoded once here, and
// then every unit that names the shard uses the same decoded samples: no reading, hashing or decoding
// again while it stays cached.
//
//   DecodedShards shards(512 << 20);
//   if (auto hit = shards.find(hash)) use(*hit);
//   else use(*shards.insert(hash, verifiedBytes));     // decodes; raven::Error for bytes that do not
//
// Bounded by the decoded bytes held (features and labels): the least recently used shards are dropped
// first. A shard larger than the whole bound is decoded and returned but not kept. Units hold their
// shards by shared pointer, so dropping one from the cache never pulls it from under a computation.
// One thread: the worker uses it from its protocol thread only.
#include <QByteArray>
#include <QHash>
#include <QString>

#include <cstdint>
#include <list>
#include <memory>

#include "data/Samples.h"
#include "data/Shard.h"

namespace raven::worker {

struct DecodedShard {
    QString hash;  // the content hash its bytes were verified against
    data::ElementType elementType = data::ElementType::F32;
    data::Samples samples;
    // Memory the decoded samples hold.
    std::int64_t bytes() const;
};

// Decodes bytes already verified to hash to `hash`. raven::Error naming the shard when they do not parse.
std::shared_ptr<const DecodedShard> decodeVerifiedShard(const QString& hash, const QByteArray& bytes);

class DecodedShards {
public:
    explicit DecodedShards(std::int64_t maxBytes);

    // The decoded shard, marked as just used; null when not held.
    std::shared_ptr<const DecodedShard> find(const QString& hash);
    // Decodes verified bytes and keeps them (dropping the least recently used to make room).
    // raven::Error when the bytes do not decode; nothing is kept then.
    std::shared_ptr<const DecodedShard> insert(const QString& hash, const QByteArray& verifiedBytes);
    bool contains(const QString& hash) const { return index_.contains(hash); }

    std::int64_t heldBytes() const { return heldBytes_; }
    std::int64_t maxBytes() const { return maxBytes_; }
    int size() const { return static_cast<int>(index_.size()); }
    // Shards decoded / answered from memory / dropped for room, since the cache was made.
    std::int64_t decodes() const { return decodes_; }
    std::int64_t hits() const { return hits_; }
    std::int64_t evictions() const { return evictions_; }

private:
    using Order = std::list<std::shared_ptr<const DecodedShard>>;  // most recently used first
    std::int64_t maxBytes_;
    Order order_;
    QHash<QString, Order::iterator> index_;
    std::int64_t heldBytes_ = 0;
    std::int64_t decodes_ = 0;
    std::int64_t hits_ = 0;
    std::int64_t evictions_ = 0;
};

}  // namespace raven::worker
