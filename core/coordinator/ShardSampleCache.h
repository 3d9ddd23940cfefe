#pragma once
// ShardSampleCache: decoded training shards kept for the coordinator's replays, bounded in bytes.
//
//   ShardSampleCache cache(shards, 256 << 20);
//   std::shared_ptr<const data::Samples> s = cache.samples(manifest, ref);   // decoded once
//
// A replay reads the same few shards again and again (every unit of a step reads its own, and the
// next step's units read them again); reading and decoding them from disk each time cost more than
// the replay's arithmetic for small models. The least recently used shards go first once the
// decoded samples exceed the bound; a shard larger than the bound is decoded and not kept. Safe to
// call from several threads (the replays run on the coordinator's pool).
#include <QString>

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>

#include "data/Manifest.h"
#include "data/Samples.h"
#include "data/ShardStore.h"

namespace raven::coordinator {

class ShardSampleCache {
public:
    ShardSampleCache(const data::ShardStore& shards, std::int64_t maxBytes);

    // The shard's samples, decoded (raven::Error when it cannot be read).
    std::shared_ptr<const data::Samples> samples(const data::Manifest& manifest, const data::ShardRef& shard);

    std::int64_t bytes() const;
    std::int64_t hits() const;
    std::int64_t misses() const;

private:
    struct Entry {
        std::shared_ptr<const data::Samples> samples;
        std::int64_t bytes = 0;
        std::list<QString>::iterator age;
    };
    void evictOverBound();

    const data::ShardStore& shards_;
    const std::int64_t maxBytes_;
    mutable std::mutex mutex_;
    std::map<QString, Entry> entries_;
    std::list<QString> ages_;  // most recently used first
    std::int64_t bytes_ = 0;
    std::int64_t hits_ = 0;
    std::int64_t misses_ = 0;
};

}  // namespace raven::coordinator
