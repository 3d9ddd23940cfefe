#pragma once
// Transfers: the coordinator's outgoing contents (shards, manifests, weights, checkpoints) as the
// ContentChunks that answer a fetch, from any offset so that a broken transfer resumes.
//
//   for (wire::ContentChunk& c : transfers.chunks("shard:" + hash, bytes, accept_zstd, offset)) send(c);
//
// Hashing and compressing a content costs more than sending it, and every worker of a step fetches
// the same weights, so the last few contents' hashes and zstd frames are kept by key. A receiver's
// accept_zstd is an offer: a content that zstd would not shrink by a tenth travels raw.
#include <QByteArray>
#include <QString>

#include <cstdint>
#include <deque>
#include <vector>

#include "protocol/raven.pb.h"

namespace raven::coordinator {

class Transfers {
public:
    // The chunks (at most protocol::kChunkBytes each) of the travelling bytes from `offset` on; one
    // empty chunk for an empty content. `key` names this exact content (its bytes never change under
    // that key). raven::Error when offset is beyond the travelling bytes.
    // `hashed` false leaves content_sha256 empty, for weights pushed whole in a grant to a worker that
    // accepts them so (LeaseRequest.accept_unhashed_weights); the content is hashed once it is asked
    // for with its hash.
    std::vector<wire::ContentChunk> chunks(const QString& key, const QByteArray& raw, bool zstd, std::uint64_t offset,
                                           bool hashed = true);

private:
    struct Prepared {
        QString key;
        bool zstd = false;        // asked for (part of the key)
        bool compressed = false;  // travels compressed (where zstd was asked for and pays)
        std::string sha256;       // empty until it is asked for with its hash
        QByteArray travelling;
        std::uint64_t rawBytes = 0;
    };
    const Prepared& prepare(const QString& key, const QByteArray& raw, bool zstd, bool hashed);

    std::deque<Prepared> cache_;  // most recent first
};

}  // namespace raven::coordinator
