#pragma once
// Contents larger than a message (shards, weights, checkpoints, gradients) travel as a sequence of
// wire::ContentChunk: the content is optionally zstd-compressed as a whole, then the travelling bytes
// are cut at kChunkBytes. The receiver appends chunks in order, then decompresses and checks the
// SHA-256 of the raw content against the one every chunk announces.
//
//   sender:   for (auto& chunk : splitContent(bytes, true)) send(...chunk...);
//   receiver: ContentAssembler in; in.add(chunk); if (in.complete()) use(in.content());
#include <QByteArray>
#include <QString>
#include <cstdint>
#include <vector>

#include "data/Sha256.h"
#include "protocol/Protocol.h"
#include "protocol/raven.pb.h"

namespace raven::protocol {

// Lowercase hex SHA-256 (the name of shards and the checksum of every content), data/Sha256.h.
using data::sha256Hex;

// The chunks of `raw`, compressed first when `zstd`. An empty content is one empty chunk. `hashed`
// false leaves content_sha256 empty, for a receiver that takes the content so (ContentAssembler).
std::vector<wire::ContentChunk> splitContent(const QByteArray& raw, bool zstd, std::int64_t chunkBytes = kChunkBytes,
                                             bool hashed = true);

class ContentAssembler {
public:
    // Whether a content announced without a hash (an empty content_sha256) is taken: only for bytes
    // whose channel vouches for them whole (weights pushed in a grant, LeaseRequest's
    // accept_unhashed_weights). A content that announces a hash is checked against it either way.
    enum class Unhashed { Refused, Taken };
    // At most this many raw bytes are accepted (what the receiver is willing to hold).
    explicit ContentAssembler(std::uint64_t maxRawBytes = 1ull << 32, Unhashed unhashed = Unhashed::Refused);

    // Appends the next chunk. Throws raven::Error when it does not continue the content (other hash,
    // sizes or flags, a gap or overlap, past the end) or the content exceeds the bound; when it completes
    // the content, also when decompression fails or the hash does not match.
    void add(const wire::ContentChunk& chunk);
    // add() in two halves, for a receiver that finishes on another thread: addBytes() checks and
    // appends a chunk and says whether the travelling bytes are all in; finish() then decompresses
    // and checks the hash (the expensive part). The object may move between threads in between.
    bool addBytes(const wire::ContentChunk& chunk);
    void finish();

    bool complete() const { return complete_; }
    // The raw (decompressed, verified) content; valid once complete().
    const QByteArray& content() const { return content_; }
    const QString& sha256() const { return sha256_; }
    // Travelling bytes received so far, for progress and resuming (FetchShard.offset).
    std::uint64_t receivedBytes() const { return received_; }

private:
    std::uint64_t maxRawBytes_;
    Unhashed unhashed_;
    bool started_ = false;
    bool complete_ = false;
    bool zstd_ = false;
    std::uint64_t rawBytes_ = 0;
    std::uint64_t totalBytes_ = 0;
    std::uint64_t received_ = 0;
    QString sha256_;
    QByteArray travelling_;
    QByteArray content_;
};

}  // namespace raven::protocol
