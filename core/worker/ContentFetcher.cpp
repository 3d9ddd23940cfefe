#include "worker/ContentFetcher.h"

#include "base/Error.h"
#include "checkpoint/WeightsDelta.h"
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
    const QString name = weightsName(jobId, version);
    if (serveOrJoin(name, done)) return;
    waiting_[name].push_back(std::move(done));
    ++transfers_;
    ++weightsFetched_;
    requestWeights(name, jobId, version, version > 0 ? heldWeights(jobId, version - 1) : nullptr);
}

std::shared_ptr<const QByteArray> ContentFetcher::heldWeights(const QString& jobId, std::uint64_t version) const {
    for (const HeldWeights& held : recentWeights_)
        if (held.job == jobId && held.version == version) return held.bytes;
    return nullptr;
}

QByteArray ContentFetcher::applyDelta(const QByteArray& base, const QByteArray& delta, std::uint64_t version,
                                      const std::string& sha256, QString* problem) {
    QByteArray out;
    try {
        const std::vector<std::byte> rebuilt = applyWeightsDelta(
            std::span(reinterpret_cast<const std::byte*>(base.constData()), static_cast<std::size_t>(base.size())),
            std::span(reinterpret_cast<const std::byte*>(delta.constData()), static_cast<std::size_t>(delta.size())),
            static_cast<std::int64_t>(version));
        out = QByteArray(reinterpret_cast<const char*>(rebuilt.data()), static_cast<qsizetype>(rebuilt.size()));
        const std::string got = protocol::sha256Hex(out).toStdString();
        if (got != sha256) {
            *problem =
                QStringLiteral("the weights rebuilt from the delta hash to %1..., the coordinator announced %2...")
                    .arg(QString::fromStdString(got.substr(0, 12)), QString::fromStdString(sha256.substr(0, 12)));
            out.clear();
        }
    } catch (const Error& e) {
        *problem = QString::fromStdString(e.message());
        out.clear();
    }
    ++(out.isEmpty() ? weightsDeltasRefused_ : weightsDeltasApplied_);
    return out;
}

void ContentFetcher::requestWeights(const QString& name, const QString& jobId, std::uint64_t version,
                                    std::shared_ptr<const QByteArray> base) {
    if (!client_ || !client_->isReady()) {
        finish(name, failure(wire::ERROR_CODE_UNAVAILABLE, QStringLiteral("not connected to the coordinator")));
        return;
    }
    wire::Envelope request;
    request.mutable_fetch_weights()->set_job_id(jobId.toStdString());
    request.mutable_fetch_weights()->set_model_version(version);
    request.mutable_fetch_weights()->set_accept_zstd(true);
    if (base) request.mutable_fetch_weights()->set_base_version(version - 1);
    // The transfer's own SHA-256 checks whole weights (they are named by (job, version), not by
    // content); a delta's result is checked against the hash its chunks announce.
    auto assembler = std::make_shared<protocol::ContentAssembler>(kMaxWeightsBytes);
    auto handler = [this, name, jobId, version, base, assembler](const wire::Envelope& reply) {
        using Flow = protocol::ProtocolClient::ReplyFlow;
        if (reply.has_error()) {
            finish(name, failure(reply.error().code(), QString::fromStdString(reply.error().message())));
            return Flow::Done;
        }
        if (!reply.has_weights_chunk()) {
            finish(
                name,
                failure(wire::ERROR_CODE_INTERNAL,
                        QStringLiteral("the coordinator answered %1 with %2").arg(name, protocol::payloadName(reply))));
            return Flow::Done;
        }
        const wire::WeightsChunk& chunk = reply.weights_chunk();
        const auto travelling = static_cast<std::int64_t>(chunk.content().data().size());
        bytesReceived_ += travelling;
        (chunk.has_delta_base_version() ? weightsDeltaBytes_ : wholeWeightsBytes_) += travelling;
        if (!addChunk(*assembler, chunk.content(), name)) return Flow::Done;
        if (!assembler->complete()) return Flow::More;
        auto bytes = std::make_shared<const QByteArray>(assembler->content());
        if (chunk.has_delta_base_version()) {
            QString problem;
            QByteArray rebuilt;
            if (!base)
                problem = QStringLiteral("a delta from version %1 came, but the whole weights were asked for")
                              .arg(chunk.delta_base_version());
            else if (chunk.delta_base_version() + 1 != version)
                problem = QStringLiteral("a delta from version %1 came for a worker that holds version %2")
                              .arg(chunk.delta_base_version())
                              .arg(version - 1);
            else
                rebuilt = applyDelta(*base, *bytes, version, chunk.weights_sha256(), &problem);
            if (rebuilt.isEmpty() && !base) {  // a delta for a request that named no base: not asked again
                finish(name, failure(wire::ERROR_CODE_INTERNAL, QStringLiteral("%1: %2").arg(name, problem)));
                return Flow::Done;
            }
            if (rebuilt.isEmpty()) {
                if (warn_)
                    warn_(QStringLiteral("%1: the int8 delta was refused (%2); fetching the whole weights")
                              .arg(name, problem));
                requestWeights(name, jobId, version, nullptr);
                return Flow::Done;
            }
            bytes = std::make_shared<const QByteArray>(std::move(rebuilt));
        }
        succeed(name, std::move(bytes));
        return Flow::Done;
    };
    client_->request(std::move(request), std::move(handler));
}

bool ContentFetcher::serveOrJoin(const QString& name, Done& done) {
    for (const HeldWeights& held : recentWeights_)
        if (held.name == name) {
            ++cacheHits_;
            FetchResult hit;
            hit.ok = true;
            hit.bytes = held.bytes;
            done(hit);
            return true;
        }
    if (auto it = waiting_.find(name); it != waiting_.end()) {
        it->push_back(std::move(done));
        return true;
    }
    return false;
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
        const bool delta = grant.weights(i).has_delta_base_version();
        const std::uint64_t deltaBase = grant.weights(i).delta_base_version();
        const std::string deltaSha256 = grant.weights(i).weights_sha256();
        const QString name = weightsName(QString::fromStdString(job), version);
        // Taken without a hash (LeaseRequest.accept_unhashed_weights): the grant is one message on the
        // coordinator's TLS stream, which authenticates every byte of it.
        protocol::ContentAssembler assembler(kMaxWeightsBytes, protocol::ContentAssembler::Unhashed::Taken);
        QString problem;
        for (; i < grant.weights_size() && grant.weights(i).job_id() == job &&
               grant.weights(i).model_version() == version;
             ++i) {
            const auto travelling = static_cast<std::int64_t>(grant.weights(i).content().data().size());
            bytesReceived_ += travelling;
            (delta ? weightsDeltaBytes_ : wholeWeightsBytes_) += travelling;
            if (!problem.isEmpty() || assembler.complete()) continue;
            try {
                assembler.add(grant.weights(i).content());
            } catch (const Error& e) {
                problem = QString::fromStdString(e.message());
            }
        }
        if (problem.isEmpty() && !assembler.complete()) problem = QStringLiteral("its chunks end before the content");
        QByteArray content;
        if (problem.isEmpty()) content = assembler.content();
        if (problem.isEmpty() && delta) {
            const std::shared_ptr<const QByteArray> base =
                deltaBase + 1 == version ? heldWeights(QString::fromStdString(job), deltaBase) : nullptr;
            if (!base)
                problem = QStringLiteral("a delta from version %1, which this worker does not hold").arg(deltaBase);
            else
                content = applyDelta(*base, content, version, deltaSha256, &problem);
            if (!problem.isEmpty()) problem = QStringLiteral("the int8 delta was refused (%1)").arg(problem);
        }
        if (!problem.isEmpty() || !ContentCache::isValidName(name)) {
            problems.append(QStringLiteral("the weights of job %1 version %2 that came with the grant: %3")
                                .arg(QString::fromStdString(job).left(40))
                                .arg(version)
                                .arg(problem.isEmpty() ? QStringLiteral("not a job id") : problem));
            continue;
        }
        ++weightsPushed_;
        // A FetchWeights of the same version already under way need not be waited for.
        succeed(name, std::make_shared<const QByteArray>(std::move(content)));
    }
    return problems;
}

void ContentFetcher::fetch(const QString& name, wire::Envelope request, Verify verify, std::uint64_t maxRawBytes,
                           Done done) {
    if (serveOrJoin(name, done)) return;
    // Weights stay in memory only: they go stale with the next step, and writing each version into
    // the disk cache (QSaveFile: an fsync of the whole model) held the protocol thread every step.
    const bool cacheable = cache_ && ContentCache::isValidName(name) && !name.startsWith(QLatin1String("weights/"));
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
        if (!addChunk(*assembler, *chunk, name)) return Flow::Done;
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
        succeed(name, std::move(bytes));
        return Flow::Done;
    };
    client_->request(std::move(request), std::move(handler));
}

bool ContentFetcher::addChunk(protocol::ContentAssembler& assembler, const wire::ContentChunk& chunk,
                              const QString& name) {
    try {
        assembler.add(chunk);
        return true;
    } catch (const Error& e) {
        finish(name, failure(wire::ERROR_CODE_INTERNAL,
                             QStringLiteral("%1: %2").arg(name, QString::fromStdString(e.message()))));
        return false;
    }
}

void ContentFetcher::succeed(const QString& name, std::shared_ptr<const QByteArray> bytes) {
    remember(name, bytes);
    FetchResult result;
    result.ok = true;
    result.bytes = std::move(bytes);
    finish(name, result);
}

void ContentFetcher::finish(const QString& name, const FetchResult& result) {
    std::vector<Done> waiting = waiting_.take(name);
    for (Done& done : waiting) done(result);
}

}  // namespace raven::worker
