// RequesterClient::uploadDataset: declare the manifest, then send the shards the coordinator lacks.
// A shard's chunks go one after the other, each after the coordinator acknowledged the previous one
// (the last Ack of a shard comes after it verified the shard's hash and shapes). A few shards travel
// at once, so that a distant coordinator's round trips overlap; few enough that the coordinator holds
// little per connection (it accepts up to 8 half-done shards).
#include <QSet>

#include "base/Error.h"
#include "protocol/Chunking.h"
#include "requester/RequesterClient.h"

namespace raven::requester {

namespace {

constexpr int kShardsInFlight = 4;

// Every shard the manifest lists, train then test, each once.
QStringList shardsOf(const data::Manifest& manifest) {
    QStringList hashes;
    QSet<QString> seen;
    for (const data::SplitManifest* split : {&manifest.train, &manifest.test})
        for (const data::ShardRef& shard : split->shards)
            if (!seen.contains(shard.hash)) {
                seen.insert(shard.hash);
                hashes.append(shard.hash);
            }
    return hashes;
}

}  // namespace

struct RequesterClient::Upload {
    data::Manifest manifest;
    data::ShardStore shards;
    Reply<DatasetUploaded> reply;
    std::function<void(const UploadProgress&)> progress;
    DatasetUploaded result;
    QStringList missing;  // shards to send, in the coordinator's order
    int nextShard = 0;    // the next one to start
    int inFlight = 0;     // shards started and not yet acknowledged whole
    bool ended = false;   // the reply ran (done or failed): nothing more happens

    UploadProgress progressNow() const { return {int(missing.size()), result.shardsSent, result.bytesSent}; }
    void fail(const Failure& failure) {
        if (ended) return;
        ended = true;
        if (reply.failed) reply.failed(failure);
    }
};

void RequesterClient::uploadDataset(const data::Manifest& manifest, const data::ShardStore& shards,
                                    Reply<DatasetUploaded> reply, std::function<void(const UploadProgress&)> progress) {
    auto upload = std::make_shared<Upload>(Upload{manifest, shards, std::move(reply), std::move(progress), {}, {}});
    const QStringList hashes = shardsOf(manifest);
    // Refuse before the coordinator hears of a dataset that could not be completed.
    for (const QString& hash : hashes)
        if (!shards.contains(hash)) {
            upload->fail({wire::ERROR_CODE_NOT_FOUND,
                          QStringLiteral("shard %1 of dataset '%2' is not in %3")
                              .arg(hash, QString::fromStdString(manifest.name), shards.directory()),
                          QStringLiteral("upload the directory that `raven dataset import` wrote (its manifest.json "
                                         "and shards/ belong together), or import the dataset again")});
            return;
        }
    upload->result.datasetId = manifest.id;
    upload->result.shardsTotal = int(hashes.size());

    wire::Envelope request;
    wire::UploadDataset& declare = *request.mutable_upload_dataset();
    declare.set_name(manifest.name);
    const QByteArray json = manifest.toBytes();
    declare.set_manifest_json(json.constData(), std::size_t(json.size()));
    for (const QString& hash : hashes) declare.add_shard_sha256(hash.toStdString());

    call(
        std::move(request), wire::Envelope::kUploadDatasetReply,
        [this, upload, declared = QSet<QString>(hashes.begin(), hashes.end())](const wire::Envelope& answer) {
            const wire::UploadDatasetReply& r = answer.upload_dataset_reply();
            const QString id = QString::fromStdString(r.dataset_id());
            if (id != upload->manifest.id) {
                upload->fail({wire::ERROR_CODE_INTERNAL,
                              QStringLiteral("the coordinator names the dataset %1, but its manifest's id is %2")
                                  .arg(id, upload->manifest.id),
                              hintFor(wire::ERROR_CODE_VERSION_MISMATCH)});
                return;
            }
            QSet<QString> asked;
            for (const std::string& h : r.missing_shard_sha256()) {
                const QString hash = QString::fromStdString(h);
                if (!declared.contains(hash)) {
                    upload->fail({wire::ERROR_CODE_INTERNAL,
                                  QStringLiteral("the coordinator asked for shard %1, which dataset %2 does not list")
                                      .arg(hash, id),
                                  hintFor(wire::ERROR_CODE_INTERNAL)});
                    return;
                }
                if (!asked.contains(hash)) upload->missing.append(hash);
                asked.insert(hash);
            }
            if (upload->progress) upload->progress(upload->progressNow());
            if (upload->missing.isEmpty()) {
                upload->ended = true;
                if (upload->reply.done) upload->reply.done(upload->result);
                return;
            }
            for (int i = 0; i < kShardsInFlight && !upload->ended; ++i) startNextShard(upload);
        },
        [upload](const Failure& f) { upload->fail(f); });
}

void RequesterClient::startNextShard(const std::shared_ptr<Upload>& upload) {
    if (upload->ended) return;
    if (upload->nextShard >= upload->missing.size()) {
        if (upload->inFlight == 0) {
            upload->ended = true;
            if (upload->reply.done) upload->reply.done(upload->result);
        }
        return;
    }
    const QString hash = upload->missing.at(upload->nextShard++);
    std::shared_ptr<const std::vector<wire::ContentChunk>> chunks;
    try {
        // read() checks the hash: a shard damaged on this disk is reported here, not by the coordinator.
        chunks = std::make_shared<const std::vector<wire::ContentChunk>>(
            protocol::splitContent(upload->shards.read(hash), true));
    } catch (const raven::Error& e) {
        upload->fail({wire::ERROR_CODE_INVALID_ARGUMENT,
                      QStringLiteral("cannot upload dataset '%1': %2")
                          .arg(QString::fromStdString(upload->manifest.name), QString::fromStdString(e.message())),
                      QString::fromStdString(e.hint())});
        return;
    }
    ++upload->inFlight;
    sendShardChunk(upload, hash, std::move(chunks), 0);
}

void RequesterClient::sendShardChunk(const std::shared_ptr<Upload>& upload, const QString& hash,
                                     std::shared_ptr<const std::vector<wire::ContentChunk>> chunks, std::size_t next) {
    wire::Envelope request;
    request.mutable_upload_shard()->set_dataset_id(upload->manifest.id.toStdString());
    *request.mutable_upload_shard()->mutable_content() = (*chunks)[next];
    const auto sent = std::int64_t((*chunks)[next].data().size());
    call(
        std::move(request), wire::Envelope::kAck,
        [this, upload, hash, chunks, next, sent](const wire::Envelope&) {
            if (upload->ended) return;
            upload->result.bytesSent += sent;
            if (next + 1 < chunks->size()) return sendShardChunk(upload, hash, chunks, next + 1);
            --upload->inFlight;
            ++upload->result.shardsSent;
            if (upload->progress) upload->progress(upload->progressNow());
            startNextShard(upload);
        },
        [upload, hash](Failure f) {
            f.message = QStringLiteral("uploading shard %1: %2").arg(hash, f.message);
            upload->fail(f);
        });
}

}  // namespace raven::requester
