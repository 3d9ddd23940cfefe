#include "worker/DecodedShards.h"

#include "base/Error.h"

namespace raven::worker {

std::int64_t DecodedShard::bytes() const {
    return static_cast<std::int64_t>(samples.allFeatures().size() * sizeof(float) +
                                     samples.allLabels().size() * sizeof(std::int32_t));
}

std::shared_ptr<const DecodedShard> decodeVerifiedShard(const QString& hash, const QByteArray& bytes) {
    auto decoded = std::make_shared<DecodedShard>();
    data::Shard shard = data::decodeShard(bytes, "shard " + hash.left(8).toStdString() + "...");
    decoded->hash = hash;
    decoded->elementType = shard.elementType;
    decoded->samples = std::move(shard.samples);
    return decoded;
}

DecodedShards::DecodedShards(std::int64_t maxBytes) : maxBytes_(maxBytes) {
    RAVEN_CHECK(maxBytes_ >= 0, "decoded shard memory " + std::to_string(maxBytes_) + " bytes is negative",
                "give it 0 (keep none) or more");
}

std::shared_ptr<const DecodedShard> DecodedShards::find(const QString& hash) {
    auto it = index_.find(hash);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, *it);  // iterators stay valid
    ++hits_;
    return order_.front();
}

std::shared_ptr<const DecodedShard> DecodedShards::insert(const QString& hash, const QByteArray& verifiedBytes) {
    if (auto held = find(hash)) return held;
    std::shared_ptr<const DecodedShard> decoded = decodeVerifiedShard(hash, verifiedBytes);
    ++decodes_;
    const std::int64_t size = decoded->bytes();
    if (size > maxBytes_) return decoded;  // used once, not kept: it would push out everything else
    while (heldBytes_ + size > maxBytes_ && !order_.empty()) {
        heldBytes_ -= order_.back()->bytes();
        index_.remove(order_.back()->hash);
        order_.pop_back();
        ++evictions_;
    }
    order_.push_front(decoded);
    index_.insert(hash, order_.begin());
    heldBytes_ += size;
    return decoded;
}

}  // namespace raven::worker
