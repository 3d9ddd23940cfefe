#pragma once
// ContentFetcher: gets the contents a work unit needs (its dataset's manifest, its shards, the model's
// weights at its version) from the worker's ContentCache when it holds them, and otherwise from the
// coordinator as a stream of chunks (FetchManifest, FetchShard, FetchWeights; docs/protocol.md),
// verified and then cached.
//
//   ContentFetcher fetcher(&cache);
//   fetcher.setClient(&client);                       // a ready ProtocolClient, authenticated
//   fetcher.fetchShard(hash, [](const FetchResult& r) { if (r.ok) use(*r.bytes); else log(r.message); });
//
// Verification: a chunk stream is checked by protocol::ContentAssembler (sizes, order, and the SHA-256
// of the raw content against the one its chunks announce); a shard's announced SHA-256 must also be
// the one asked for, and a manifest must parse and carry the dataset id asked for. The cache checks
// its own checksum on every read, and a shard read from it must carry its name as that checksum.
// Nothing unverified reaches a model, and each shard's bytes are hashed once on their way in.
//
// Shards for computing come decoded (fetchDecodedShard): from memory (DecodedShards.h) when held,
// otherwise fetched as above and decoded once; the disk cache is not read again while they stay there.
//
// Several units that need the same content at once share one transfer. Weights are kept in memory
// only (the last two versions), never on disk: consecutive units of a job need the same version, and
// the next step makes it stale (the coordinator serves only the current version and the one before).
// Weights pushed with a lease grant (takePushedWeights; docs/protocol.md, "Weights with the grant")
// are verified as a FetchWeights answer is and kept the same way, so the units of that grant find
// them in memory; weightsHeld() is what a LeaseRequest tells the coordinator the worker has.
//
// An int8-down job's weights (checkpoint/WeightsDelta.h) come as the int8 delta from the version
// before when the worker holds it (a FetchWeights names it as base_version; a grant's push knows it
// from weightsHeld()): the worker applies it with the coordinator's own code and checks the result
// against the SHA-256 the coordinator announces. A delta that does not apply or whose result has
// another hash is reported (the warning callback; takePushedWeights' problems) and the whole weights
// are fetched instead.
//
// Callbacks run on the thread of the client's event loop. When the connection ends, transfers in
// flight fail with ERROR_CODE_UNAVAILABLE (ProtocolClient::request's rule) and must be asked again.
#include <QByteArray>
#include <QHash>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "protocol/raven.pb.h"
#include "worker/DecodedShards.h"

namespace raven::protocol {
class ContentAssembler;
class ProtocolClient;
}  // namespace raven::protocol

namespace raven::worker {

class ContentCache;

struct FetchResult {
    bool ok = false;
    std::shared_ptr<const QByteArray> bytes;              // the verified content when ok
    wire::ErrorCode code = wire::ERROR_CODE_UNSPECIFIED;  // when not ok: the coordinator's code, or
                                                          // INTERNAL for content that failed verification
    QString message;
    // fetchDecodedShard: the decoded shard when ok. undecodable: the bytes matched their hash but are
    // not a shard (the dataset itself is broken, not the transfer).
    std::shared_ptr<const DecodedShard> shard;
    bool undecodable = false;
};

class ContentFetcher {
public:
    using Done = std::function<void(const FetchResult&)>;

    // `cache` may be null (nothing is kept on disk); it must outlive the fetcher. decodedShardBytes
    // bounds the decoded shards kept in memory.
    explicit ContentFetcher(ContentCache* cache, std::int64_t decodedShardBytes = kDecodedShardBytes);
    void setClient(protocol::ProtocolClient* client) { client_ = client; }
    // Where problems that cost only a retry go (a weights delta refused); none by default.
    void setWarning(std::function<void(const QString&)> warn) { warn_ = std::move(warn); }

    void fetchManifest(const QString& datasetId, Done done);
    void fetchShard(const QString& sha256, Done done);
    // The shard decoded (FetchResult::shard), from memory when held.
    void fetchDecodedShard(const QString& sha256, Done done);
    void fetchWeights(const QString& jobId, std::uint64_t version, Done done);

    // Takes the weights a LeaseGrant carries. Returns what was wrong with any (they are then
    // fetched as usual when a unit needs them); empty when all were taken or there were none.
    QStringList takePushedWeights(const wire::LeaseGrant& grant);
    // The (job, model_version) weights held in memory, most recent first.
    std::vector<std::pair<QString, std::uint64_t>> weightsHeld() const;

    // Travelling bytes received from the coordinator (cache hits cost nothing).
    std::int64_t bytesReceived() const { return bytesReceived_; }
    // Contents served from the cache / fetched over the network.
    std::int64_t cacheHits() const { return cacheHits_; }
    std::int64_t transfers() const { return transfers_; }
    // Weights fetched with FetchWeights / taken from lease grants.
    std::int64_t weightsFetched() const { return weightsFetched_; }
    std::int64_t weightsPushed() const { return weightsPushed_; }
    // Weights versions rebuilt from an int8 delta, and deltas refused (then fetched whole).
    std::int64_t weightsDeltasApplied() const { return weightsDeltasApplied_; }
    std::int64_t weightsDeltasRefused() const { return weightsDeltasRefused_; }
    // Travelling bytes of weights received whole / as deltas (grants and fetches).
    std::int64_t wholeWeightsBytes() const { return wholeWeightsBytes_; }
    std::int64_t weightsDeltaBytes() const { return weightsDeltaBytes_; }
    const DecodedShards& decodedShards() const { return decoded_; }

    static constexpr std::int64_t kDecodedShardBytes = 512LL << 20;

    // The cache names of each kind of content.
    static QString manifestName(const QString& datasetId) { return "manifests/" + datasetId; }
    static QString shardName(const QString& sha256) { return "shards/" + sha256; }
    static QString weightsName(const QString& jobId, std::uint64_t version) {
        return "weights/" + jobId + "/" + QString::number(version);
    }

private:
    // Given the bytes and the SHA-256 (hex) they were verified against; empty string: fine.
    using Verify = std::function<QString(const QByteArray&, const QString&)>;
    void fetch(const QString& name, wire::Envelope request, Verify verify, std::uint64_t maxRawBytes, Done done);
    void finish(const QString& name, const FetchResult& result);
    // One chunk into `assembler`; false (and every waiter of `name` failed with the reason) when it
    // does not fit.
    bool addChunk(protocol::ContentAssembler& assembler, const wire::ContentChunk& chunk, const QString& name);
    // The content arrived and was checked: kept among the recent ones, and every waiter answered.
    void succeed(const QString& name, std::shared_ptr<const QByteArray> bytes);
    void remember(const QString& name, const std::shared_ptr<const QByteArray>& bytes);
    // Serves `done` from memory, joins a transfer in flight, or fails it when not connected: true
    // when `done` is taken care of; false when a new transfer of `name` is to be started.
    bool serveOrJoin(const QString& name, Done& done);
    std::shared_ptr<const QByteArray> heldWeights(const QString& jobId, std::uint64_t version) const;
    // Sends FetchWeights for a transfer begun (waiting_[name]); with `base` (the version before), asks
    // for the delta from it, and asks again for the whole weights if the delta is refused.
    void requestWeights(const QString& name, const QString& jobId, std::uint64_t version,
                        std::shared_ptr<const QByteArray> base);
    // The weights `delta` makes from `base` (held by this worker), checked against `sha256`; empty
    // and `problem` set when it does not apply or makes other weights.
    QByteArray applyDelta(const QByteArray& base, const QByteArray& delta, std::uint64_t version,
                          const std::string& sha256, QString* problem);
    struct HeldWeights {
        QString name;  // weightsName(job, version)
        QString job;
        std::uint64_t version = 0;
        std::shared_ptr<const QByteArray> bytes;
    };

    ContentCache* cache_;
    DecodedShards decoded_;
    protocol::ProtocolClient* client_ = nullptr;
    QHash<QString, std::vector<Done>> waiting_;  // transfers in flight, by cache name
    std::deque<HeldWeights> recentWeights_;      // most recent first
    std::int64_t bytesReceived_ = 0;
    std::int64_t cacheHits_ = 0;
    std::int64_t transfers_ = 0;
    std::int64_t weightsFetched_ = 0;
    std::int64_t weightsPushed_ = 0;
    std::int64_t weightsDeltasApplied_ = 0;
    std::int64_t weightsDeltasRefused_ = 0;
    std::int64_t wholeWeightsBytes_ = 0;
    std::int64_t weightsDeltaBytes_ = 0;
    std::function<void(const QString&)> warn_;
};

}  // namespace raven::worker
