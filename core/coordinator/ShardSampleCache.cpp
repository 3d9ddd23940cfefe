#include "coordinator/ShardSampleCache.h"

#include "data/Sharding.h"

namespace raven::coordinator {

namespace {

std::int64_t sizeOf(const data::Samples& s) {
    return static_cast<std::int64_t>(s.allFeatures().size() * sizeof(float) +
                                     s.allLabels().size() * sizeof(std::int32_t));
}

}  // namespace

ShardSampleCache::ShardSampleCache(const data::ShardStore& shards, std::int64_t maxBytes)
    : shards_(shards), maxBytes_(maxBytes) {}

std::shared_ptr<const data::Samples> ShardSampleCache::samples(const data::Manifest& manifest,
                                                               const data::ShardRef& shard) {
    // The key is the shard's content hash with the manifest's layout: the same bytes decode the same
    // way only under the same feature and label shapes.
    const QString key = shard.hash + QLatin1Char('/') + manifest.id;
    {
        std::lock_guard lock(mutex_);
        if (auto it = entries_.find(key); it != entries_.end()) {
            ++hits_;
            ages_.splice(ages_.begin(), ages_, it->second.age);
            return it->second.samples;
        }
        ++misses_;
    }
    // Decoded outside the lock: another replay may read a different shard meanwhile. Two replays
    // missing the same shard at once both decode it; the second's copy replaces nothing.
    auto decoded = std::make_shared<const data::Samples>(data::loadShardSamples(manifest, shard, shards_));
    const std::int64_t size = sizeOf(*decoded);
    if (size > maxBytes_) return decoded;
    std::lock_guard lock(mutex_);
    if (entries_.count(key)) return decoded;
    ages_.push_front(key);
    entries_[key] = Entry{decoded, size, ages_.begin()};
    bytes_ += size;
    evictOverBound();
    return decoded;
}

void ShardSampleCache::evictOverBound() {
    while (bytes_ > maxBytes_ && !ages_.empty()) {
        const auto it = entries_.find(ages_.back());
        bytes_ -= it->second.bytes;
        entries_.erase(it);
        ages_.pop_back();
    }
}

std::int64_t ShardSampleCache::bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

std::int64_t ShardSampleCache::hits() const {
    std::lock_guard lock(mutex_);
    return hits_;
}

std::int64_t ShardSampleCache::misses() const {
    std::lock_guard lock(mutex_);
    return misses_;
}

}  // namespace raven::coordinator
