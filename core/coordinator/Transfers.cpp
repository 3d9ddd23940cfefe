#include "coordinator/Transfers.h"

#include <algorithm>

#include "base/Error.h"
#include "protocol/Chunking.h"
#include "protocol/Compression.h"
#include "protocol/Protocol.h"

namespace raven::coordinator {

namespace {
constexpr std::size_t kCachedContents = 16;
}

const Transfers::Prepared& Transfers::prepare(const QString& key, const QByteArray& raw, bool zstd, bool hashed) {
    auto it =
        std::find_if(cache_.begin(), cache_.end(), [&](const Prepared& p) { return p.key == key && p.zstd == zstd; });
    if (it != cache_.end()) {
        if (it != cache_.begin()) {
            Prepared moved = std::move(*it);
            cache_.erase(it);
            cache_.push_front(std::move(moved));
        }
        if (hashed && cache_.front().sha256.empty()) cache_.front().sha256 = protocol::sha256Hex(raw).toStdString();
        return cache_.front();
    }
    Prepared p;
    p.key = key;
    p.zstd = zstd;
    if (hashed) p.sha256 = protocol::sha256Hex(raw).toStdString();
    // Asked for zstd, it travels compressed only where that saves a tenth: the receiver decompresses
    // every copy, and trained weights barely shrink (Compression.h).
    std::optional<QByteArray> compressed = zstd ? protocol::zstdIfItPays(raw) : std::nullopt;
    p.compressed = compressed.has_value();
    p.travelling = compressed ? std::move(*compressed) : raw;
    p.rawBytes = static_cast<std::uint64_t>(raw.size());
    cache_.push_front(std::move(p));
    if (cache_.size() > kCachedContents) cache_.pop_back();
    return cache_.front();
}

std::vector<wire::ContentChunk> Transfers::chunks(const QString& key, const QByteArray& raw, bool zstd,
                                                  std::uint64_t offset, bool hashed) {
    const Prepared& p = prepare(key, raw, zstd, hashed);
    const auto total = static_cast<std::uint64_t>(p.travelling.size());
    RAVEN_CHECK(
        offset <= total,
        "offset " + std::to_string(offset) + " is beyond the " + std::to_string(total) + " bytes of the content",
        "resume from the number of bytes already received");
    std::vector<wire::ContentChunk> out;
    std::uint64_t at = offset;
    do {
        const std::uint64_t size =
            std::min<std::uint64_t>(static_cast<std::uint64_t>(protocol::kChunkBytes), total - at);
        wire::ContentChunk& chunk = out.emplace_back();
        chunk.set_content_sha256(p.sha256);
        chunk.set_zstd(p.compressed);
        chunk.set_raw_bytes(p.rawBytes);
        chunk.set_total_bytes(total);
        chunk.set_offset(at);
        chunk.set_data(p.travelling.constData() + at, static_cast<std::size_t>(size));
        at += size;
    } while (at < total);
    return out;
}

}  // namespace raven::coordinator
