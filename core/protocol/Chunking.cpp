#include "protocol/Chunking.h"

#include <algorithm>
#include <string>

#include "base/Error.h"
#include "protocol/Compression.h"

namespace raven::protocol {

std::vector<wire::ContentChunk> splitContent(const QByteArray& raw, bool zstd, std::int64_t chunkBytes, bool hashed) {
    RAVEN_CHECK(chunkBytes > 0 && chunkBytes <= kChunkBytes,
                "chunk size " + std::to_string(chunkBytes) + " is outside 1.." + std::to_string(kChunkBytes),
                "use protocol::kChunkBytes");
    const std::string hash = hashed ? sha256Hex(raw).toStdString() : std::string();
    const QByteArray travelling = zstd ? zstdCompress(raw) : raw;
    std::vector<wire::ContentChunk> chunks;
    std::int64_t offset = 0;
    do {
        const std::int64_t size = std::min<std::int64_t>(chunkBytes, travelling.size() - offset);
        wire::ContentChunk& chunk = chunks.emplace_back();
        chunk.set_content_sha256(hash);
        chunk.set_zstd(zstd);
        chunk.set_raw_bytes(static_cast<std::uint64_t>(raw.size()));
        chunk.set_total_bytes(static_cast<std::uint64_t>(travelling.size()));
        chunk.set_offset(static_cast<std::uint64_t>(offset));
        chunk.set_data(travelling.constData() + offset, static_cast<size_t>(size));
        offset += size;
    } while (offset < travelling.size());
    return chunks;
}

ContentAssembler::ContentAssembler(std::uint64_t maxRawBytes, Unhashed unhashed)
    : maxRawBytes_(maxRawBytes), unhashed_(unhashed) {}

void ContentAssembler::add(const wire::ContentChunk& chunk) {
    if (addBytes(chunk)) finish();
}

bool ContentAssembler::addBytes(const wire::ContentChunk& chunk) {
    const std::string where = "content " + chunk.content_sha256().substr(0, 16);
    RAVEN_CHECK(!complete_, where + ": a chunk arrived after the content was complete",
                "the sender repeats itself; start a new transfer");
    if (!started_) {
        RAVEN_CHECK(!chunk.content_sha256().empty() || unhashed_ == Unhashed::Taken,
                    "a content arrived without its SHA-256, which this transfer requires",
                    "the sender is wrong; fetch the content again");
        RAVEN_CHECK(chunk.raw_bytes() <= maxRawBytes_,
                    where + " announces " + std::to_string(chunk.raw_bytes()) + " bytes, above the bound of " +
                        std::to_string(maxRawBytes_),
                    "raise the receiver's bound if such contents are expected");
        RAVEN_CHECK(chunk.zstd() || chunk.total_bytes() == chunk.raw_bytes(),
                    where + ": uncompressed content whose sizes differ", "the sender is inconsistent");
        // zstd never grows content by more than its frame overhead (ZSTD_compressBound): a larger
        // announced travelling size is a lie meant to make the receiver reserve memory.
        const std::uint64_t rawBound = std::min<std::uint64_t>(chunk.raw_bytes(), maxRawBytes_);
        RAVEN_CHECK(chunk.total_bytes() <= rawBound + rawBound / 128 + 1024,
                    where + " announces " + std::to_string(chunk.total_bytes()) + " compressed bytes for " +
                        std::to_string(chunk.raw_bytes()) + " raw bytes",
                    "the sender is inconsistent");
        RAVEN_CHECK(chunk.offset() == 0, where + ": the first chunk starts at offset " + std::to_string(chunk.offset()),
                    "to resume a transfer, start a new assembler and prepend the bytes already received");
        started_ = true;
        zstd_ = chunk.zstd();
        rawBytes_ = chunk.raw_bytes();
        totalBytes_ = chunk.total_bytes();
        sha256_ = QString::fromStdString(chunk.content_sha256());
        // Grown as chunks arrive, not reserved from the announcement: memory follows bytes received.
        travelling_.reserve(static_cast<qsizetype>(std::min<std::uint64_t>(totalBytes_, 4 * kChunkBytes)));
    } else {
        RAVEN_CHECK(chunk.content_sha256() == sha256_.toStdString() && chunk.zstd() == zstd_ &&
                        chunk.raw_bytes() == rawBytes_ && chunk.total_bytes() == totalBytes_,
                    where + ": a chunk of another content arrived in the middle of a transfer",
                    "send one content's chunks in order before the next");
        RAVEN_CHECK(chunk.offset() == receivedBytes(),
                    where + ": chunk at offset " + std::to_string(chunk.offset()) + " where " +
                        std::to_string(receivedBytes()) + " was expected",
                    "chunks must arrive in order without gaps");
    }
    RAVEN_CHECK(receivedBytes() + chunk.data().size() <= totalBytes_,
                where + ": chunks run past the announced " + std::to_string(totalBytes_) + " bytes",
                "the sender is inconsistent");
    travelling_.append(chunk.data().data(), static_cast<qsizetype>(chunk.data().size()));
    received_ += chunk.data().size();
    return receivedBytes() >= totalBytes_;
}

void ContentAssembler::finish() {
    RAVEN_CHECK(started_ && !complete_ && receivedBytes() >= totalBytes_,
                "content " + sha256_.toStdString().substr(0, 16) + " finished before all its bytes arrived",
                "finish() follows the addBytes() that returned true");
    content_ = zstd_ ? zstdDecompress(travelling_, rawBytes_) : travelling_;
    travelling_ = QByteArray();
    if (sha256_.isEmpty() && unhashed_ == Unhashed::Taken) {
        complete_ = true;
        return;
    }
    const QString actual = sha256Hex(content_);
    RAVEN_CHECK(actual == sha256_,
                "content announced as " + sha256_.toStdString() + " hashes to " + actual.toStdString(),
                "the transfer was corrupted or the sender is wrong; fetch it again");
    complete_ = true;
}

}  // namespace raven::protocol
