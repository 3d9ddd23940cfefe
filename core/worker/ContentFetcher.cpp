#include "worker/ContentFetcher.h"

#include "base/Error.h"
#include "data/Manifest.h"
#include "data/Shard.h"
#include "protocol/Chunking.h"
#include "protocol/Framing.h"
#include "protocol/ProtocolClient.h"
#include "worker/ContentCache.h"

namespace raven::worker {
namespace {

constexpr std::uint64_t kMaxShardBytes = 256ull << 20;
constexpr std::uint64_t kMaxManifestBytes = 256ull << 20;
constexpr std::uint64_t kMaxWeightsBytes = 1ull << 32;
constexpr std::size_t kWeightsInMemory = 2;

const wire::ContentChunk* chunkOf(const wire::Envelope& e) {
    if (e.has_shard_chunk()) return &e.shard_chunk().content();
    if (e.has_weights_chunk()) return &e.weights_chunk().content();
    if (e.has_manifest_chunk()) return &e.manifest_chunk().content();
    return nullptr;
}

FetchResult failure(wire::ErrorCode code, const QString& message) {
    FetchResult r;
    r.code = code;
    r.message = message;
    return r;
}

}  // namespace

ContentFetcher::ContentFetcher(ContentCache* cache, std::int64_t decodedShardBytes)
    : cache_(cache), decoded_(decodedShardBytes) {}

void ContentFetcher::fetchDecodedShard(const QString& sha256, Done done) {
    if (auto held = decoded_.find(sha256)) {
        FetchResult hit;
        hit.ok = true;
        hit.shard = std::move(held);
        done(hit);
        return;
    }
    fetchShard(sha256, [this, sha256, done = std::move(done)](const FetchResult& r) {
        if (!r.ok) return done(r);
        FetchResult out;
        try {
            // A second unit waiting on the same transfer finds it decoded by the first.
            out.shard = decoded_.insert(sha256, *r.bytes);
            out.ok = true;
        } catch (const Error& e) {
            out = failure(wire::ERROR_CODE_INTERNAL, QString::fromStdString(e.message()));
            out.undecodable = true;
        }
        done(out);
    });
}

void ContentFetcher::fetchManifest(const QString& datasetId, Done done) {
    wire::Envelope request;
    request.mutable_fetch_manifest()->set_dataset_id(datasetId.toStdString());
    request.mutable_fetch_manifest()->set_accept_zstd(true);
    Verify verify = [datasetId](const QByteArray& bytes, const QString&) -> QString {
        try {
            const data::Manifest m = data::Manifest::fromBytes(bytes, "manifest of dataset " + datasetId.toStdString());
            if (m.id != datasetId)
                return QStringLiteral("the coordinator sent the manifest of dataset %1 for %2").arg(m.id, datasetId);
            return {};
        } catch (const Error& e) {
            return QString::fromStdString(e.message());
        }
    };
    fetch(manifestName(datasetId), std::move(request), std::move(verify), kMaxManifestBytes, std::move(done));
}

void ContentFetcher::fetchShard(const QString& sha256, Done done) {
    wire::Envelope request;
    request.mutable_fetch_shard()->set_shard_sha256(sha256.toStdString());
    request.mutable_fetch_shard()->set_accept_zstd(true);
    // The bytes were hashed once where they entered (the transfer's check, or the disk cache's):
    // comparing that hash with the name asked for is the whole check, with no second pass over them.
    Verify verify = [sha256](const QByteArray&, const QString& verifiedSha256) -> QString {
        if (verifiedSha256 == sha256) return {};
        return QStringLiteral("shard %1...: the bytes received do not hash to its name").arg(sha256.left(8));
    };
    fetch(shardName(sha256), std::move(request), std::move(verify), kMaxShardBytes, std::move(done));
}

void ContentFetcher::fetchWeights(const QString& jobId, std::uint64_t version, Done done) {
    wire::Envelope request;
    request.mutable_fetch_weights()->set_job_id(jobId.toStdString());
    request.mutable_fetch_weights()->set_model_version(version);
    request.mutable_fetch_weights()->set_accept_zstd(true);
    // The transfer's own SHA-256 is all there is to check: weights are named by (job, version), not by content.
    fetch(weightsName(jobId, version), std::move(request), {}, kMaxWeightsBytes, std::move(done));
}

void ContentFetcher::remember(const QString& name, const std::shared_ptr<const QByteArray>& bytes) {
    if (!name.startsWith(QLatin1String("weights/"))) return;
    for (auto it = recentWeights_.begin(); it != recentWeights_.end(); ++it)
        if (it->name == name) {
            recentWeights_.erase(it);
            break;
        }
    // "weights/<job>/<version>": the name is made by weightsName, so its parts are there.
    const QStringList parts = name.split(QLatin1Char('/'));
    recentWeights_.push_front({name, parts.value(1), parts.value(2).toULongLong(), bytes});
    while (recentWeights_.size() > kWeightsInMemory) recentWeights_.pop_back();
}

std::vector<std::pair<QString, std::uint64_t>> ContentFetcher::weightsHeld() const {
    std::vector<std::pair<QString, std::uint64_t>> held;
    for (const HeldWeights& w : recentWeights_) held.emplace_back(w.job, w.version);
    return held;
}

QStringList ContentFetcher::takePushedWeights(const wire::LeaseGrant& grant) {
    QStringList problems;
    int i = 0;
    while (i < grant.weights_size()) {
        // One content's chunks are consecutive: they start at offset 0 and end where it is complete.
        const std::string job = grant.weights(i).job_id();
        const std::uint64_t version = grant.weights(i).model_version();
        const QString name = weightsName(QString::fromStdString(job), version);
        protocol::ContentAssembler assembler(kMaxWeightsBytes);
        QString problem;
        for (; i < grant.weights_size() && grant.weights(i).job_id() == job &&
               grant.weights(i).model_version() == version;
             ++i) {
            bytesReceived_ += static_cast<std::int64_t>(grant.weights(i).content().data().size());
            if (!problem.isEmpty() || assembler.complete()) continue;
            try {
                assembler.add(grant.weights(i).content());
            } catch (const Error& e) {
                problem = QString::fromStdString(e.message());
            }
        }
        if (problem.isEmpty() && !assembler.complete()) problem = QStringLiteral("its chunks end before the content");
        if (!problem.isEmpty() || !ContentCache::isValidName(name)) {
            problems.append(QStringLiteral("the weights of job %1 version %2 that came with the grant: %3")
                                .arg(QString::fromStdString(job).left(40))
                                .arg(version)
                                .arg(problem.isEmpty() ? QStringLiteral("not a job id") : problem));
            continue;
        }
        ++weightsPushed_;
        FetchResult result;
        result.ok = true;
        result.bytes = std::make_shared<const QByteArray>(assembler.content());
        remember(name, result.bytes);
        finish(name, result);  // a FetchWeights of the same version already under way need not be waited for
    }
    return problems;
}

void ContentFetcher::fetch(const QString& name, wire::Envelope request, Verify verify, std::uint64_t maxRawBytes,
                           Done done) {
    for (const HeldWeights& held : recentWeights_)
        if (held.name == name) {
            ++cacheHits_;
            FetchResult hit;
            hit.ok = true;
            hit.bytes = held.bytes;
            done(hit);
            return;
        }
    if (auto it = waiting_.find(name); it != waiting_.end()) {
        it->push_back(std::move(done));
        return;
    }
    // Weights stay in memory only: they go stale with the next step, and writing each version into
    // the disk cache (QSaveFile: an fsync of the whole model) held the protocol thread every step.
    const bool cacheable =
        cache_ && ContentCache::isValidName(name) && !name.startsWith(QLatin1String("weights/"));
    if (cacheable) {
        QByteArray digest;
        if (std::optional<QByteArray> bytes = cache_->get(name, &digest)) {
            if (!verify || verify(*bytes, QString::fromLatin1(digest.toHex())).isEmpty()) {
                ++cacheHits_;
                FetchResult hit;
                hit.ok = true;
                hit.bytes = std::make_shared<const QByteArray>(std::move(*bytes));
                remember(name, hit.bytes);
                done(hit);
                return;
            }
            cache_->remove(name);  // intact on disk but not what its name promises: fetch it afresh
        }
    }
    if (!client_ || !client_->isReady()) {
        done(failure(wire::ERROR_CODE_UNAVAILABLE, QStringLiteral("not connected to the coordinator")));
        return;
    }
    waiting_[name].push_back(std::move(done));
    ++transfers_;
    if (name.startsWith(QLatin1String("weights/"))) ++weightsFetched_;
    auto assembler = std::make_shared<protocol::ContentAssembler>(maxRawBytes);
    auto handler = [this, name, verify, assembler, cacheable](const wire::Envelope& reply) {
        using Flow = protocol::ProtocolClient::ReplyFlow;
        if (reply.has_error()) {
            finish(name, failure(reply.error().code(), QString::fromStdString(reply.error().message())));
            return Flow::Done;
        }
        const wire::ContentChunk* chunk = chunkOf(reply);
        if (!chunk) {
            finish(
                name,
                failure(wire::ERROR_CODE_INTERNAL,
                        QStringLiteral("the coordinator answered %1 with %2").arg(name, protocol::payloadName(reply))));
            return Flow::Done;
        }
        bytesReceived_ += static_cast<std::int64_t>(chunk->data().size());
        try {
            assembler->add(*chunk);
        } catch (const Error& e) {
            finish(name, failure(wire::ERROR_CODE_INTERNAL,
                                 QStringLiteral("%1: %2").arg(name, QString::fromStdString(e.message()))));
            return Flow::Done;
        }
        if (!assembler->complete()) return Flow::More;
        auto bytes = std::make_shared<const QByteArray>(assembler->content());
        if (verify) {
            const QString problem = verify(*bytes, assembler->sha256());
            if (!problem.isEmpty()) {
                finish(name, failure(wire::ERROR_CODE_INTERNAL, problem));
                return Flow::Done;
            }
        }
        if (cacheable) {
            try {
                cache_->put(name, *bytes, ContentCache::Retention::Keep,
                            QByteArray::fromHex(assembler->sha256().toLatin1()));
            } catch (const Error&) {
                // A full disk costs a later download, not this unit: the bytes are in memory.
            }
        }
        remember(name, bytes);
        FetchResult result;
        result.ok = true;
        result.bytes = std::move(bytes);
        finish(name, result);
        return Flow::Done;
    };
    client_->request(std::move(request), std::move(handler));
}

void ContentFetcher::finish(const QString& name, const FetchResult& result) {
    std::vector<Done> waiting = waiting_.take(name);
    for (Done& done : waiting) done(result);
}

}  // namespace raven::worker
