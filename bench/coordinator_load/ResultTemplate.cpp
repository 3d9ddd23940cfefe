#include "ResultTemplate.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "base/Error.h"
#include "data/Manifest.h"
#include "protocol/Chunking.h"
#include "protocol/Framing.h"
#include "protocol/ProtocolClient.h"
#include "worker/DecodedShards.h"
#include "worker/UnitComputer.h"

namespace raven::bench {

namespace {

using protocol::ProtocolClient;
using ChunkOf = std::function<const wire::ContentChunk*(const wire::Envelope&)>;
using Fetched = std::function<void(const QByteArray& bytes, const QString& error)>;

// One content (manifest, shard, weights) fetched as a worker fetches it: chunks assembled in order,
// decompressed and checked against their SHA-256.
void fetchContent(ProtocolClient& client, wire::Envelope request, ChunkOf chunkOf, Fetched fetched) {
    auto assembler = std::make_shared<protocol::ContentAssembler>();
    client.request(std::move(request), [assembler, chunkOf, fetched](const wire::Envelope& reply) {
        if (reply.has_error()) {
            fetched({}, QString::fromStdString(reply.error().message()));
            return ProtocolClient::ReplyFlow::Done;
        }
        const wire::ContentChunk* chunk = chunkOf(reply);
        if (!chunk) {
            fetched({}, QStringLiteral("unexpected %1").arg(protocol::payloadName(reply)));
            return ProtocolClient::ReplyFlow::Done;
        }
        try {
            assembler->add(*chunk);
        } catch (const raven::Error& e) {
            fetched({}, QString::fromStdString(e.what()));
            return ProtocolClient::ReplyFlow::Done;
        }
        if (!assembler->complete()) return ProtocolClient::ReplyFlow::More;
        fetched(assembler->content(), {});
        return ProtocolClient::ReplyFlow::Done;
    });
}

}  // namespace

void ResultTemplate::build(ProtocolClient& client, const wire::WorkUnit& unit, Done done) {
    building_ = true;
    done_ = std::move(done);
    unit_ = unit;
    wire::Envelope request;
    request.mutable_fetch_manifest()->set_dataset_id(unit.dataset_id());
    request.mutable_fetch_manifest()->set_accept_zstd(true);
    fetchContent(
        client, request,
        [](const wire::Envelope& e) { return e.has_manifest_chunk() ? &e.manifest_chunk().content() : nullptr; },
        [this, &client](const QByteArray& bytes, const QString& error) {
            if (!error.isEmpty()) return fail(QStringLiteral("fetching the manifest: %1").arg(error));
            manifestBytes_ = bytes;
            fetchShards(client, 0);
        });
}

void ResultTemplate::fetchShards(ProtocolClient& client, std::size_t next) {
    if (next == static_cast<std::size_t>(unit_.shard_hashes_size())) {
        wire::Envelope request;
        wire::FetchWeights& f = *request.mutable_fetch_weights();
        f.set_job_id(unit_.job_id());
        f.set_model_version(unit_.model_version());
        f.set_accept_zstd(true);
        fetchContent(
            client, request,
            [](const wire::Envelope& e) { return e.has_weights_chunk() ? &e.weights_chunk().content() : nullptr; },
            [this](const QByteArray& bytes, const QString& error) {
                if (!error.isEmpty()) return fail(QStringLiteral("fetching the weights: %1").arg(error));
                weights_ = bytes;
                compute();
            });
        return;
    }
    wire::Envelope request;
    request.mutable_fetch_shard()->set_shard_sha256(unit_.shard_hashes(static_cast<int>(next)));
    request.mutable_fetch_shard()->set_accept_zstd(true);
    fetchContent(
        client, request,
        [](const wire::Envelope& e) { return e.has_shard_chunk() ? &e.shard_chunk().content() : nullptr; },
        [this, &client, next](const QByteArray& bytes, const QString& error) {
            if (!error.isEmpty()) return fail(QStringLiteral("fetching a shard: %1").arg(error));
            shards_.push_back(bytes);
            fetchShards(client, next + 1);
        });
}

void ResultTemplate::compute() {
    try {
        auto manifest =
            std::make_shared<const data::Manifest>(data::Manifest::fromBytes(manifestBytes_, "the job's manifest"));
        for (const data::SplitManifest* split : {&manifest->train, &manifest->test})
            for (const data::ShardRef& shard : split->shards) samplesOfShard_.insert(shard.hash, shard.samples);
        worker::UnitComputer computer(QStringLiteral("cpu"), 1);
        const worker::DeviceReport device = computer.open();
        if (!device.error.isEmpty()) return fail(QStringLiteral("no CPU device: %1").arg(device.error));
        worker::UnitInputs inputs;
        inputs.unit = unit_;
        inputs.manifest = manifest;
        for (std::size_t i = 0; i < shards_.size(); ++i) {
            // Verified and decoded once, as a worker's content fetcher does before computing.
            const QString hash = QString::fromStdString(unit_.shard_hashes(static_cast<int>(i)));
            if (protocol::sha256Hex(shards_[i]) != hash)
                return fail(QStringLiteral("shard %1 does not hash to its name").arg(hash.left(8)));
            inputs.shards.push_back(worker::decodeVerifiedShard(hash, shards_[i]));
        }
        inputs.weights = std::make_shared<const QByteArray>(weights_);
        worker::ComputedUnit computed = computer.compute(inputs);
        if (!computed.error.isEmpty()) return fail(QStringLiteral("computing the unit: %1").arg(computed.error));
        if (computed.samples <= 0) return fail(QStringLiteral("the unit holds no samples"));
        lossPerSample_ = computed.lossSum / static_cast<double>(computed.samples);
        correctPerSample_ = static_cast<double>(computed.correct) / static_cast<double>(computed.samples);
        computeSeconds_ = computed.seconds;
        wireBytes_ = computed.wireBytes;
        elements_ = computed.parts.front().gradient().element_count();
        parts_ = std::move(computed.parts);
        summary_ = QStringLiteral("%1 gradient values, %2 bytes on the wire in %3 message(s), computed in %4 ms on %5")
                       .arg(elements_)
                       .arg(wireBytes_)
                       .arg(parts_.size())
                       .arg(computeSeconds_ * 1000.0, 0, 'f', 1)
                       .arg(device.summary);
    } catch (const std::exception& e) {
        return fail(QString::fromUtf8(e.what()));
    }
    building_ = false;
    shards_.clear();
    weights_.clear();
    done_({});
}

void ResultTemplate::fail(const QString& error) {
    building_ = false;
    done_(error);
}

std::vector<wire::SubmitResult> ResultTemplate::partsFor(const wire::WorkUnit& unit) const {
    std::int64_t samples = 0;
    for (const std::string& hash : unit.shard_hashes())
        samples += samplesOfShard_.value(QString::fromStdString(hash), 0);
    const auto loss = lossPerSample_ * static_cast<double>(samples);
    const auto correct = std::min<std::uint64_t>(
        static_cast<std::uint64_t>(samples),
        static_cast<std::uint64_t>(std::llround(correctPerSample_ * static_cast<double>(samples))));
    std::vector<wire::SubmitResult> parts = parts_;
    for (wire::SubmitResult& part : parts) {
        part.set_work_unit_id(unit.id());
        part.set_sample_count(static_cast<std::uint64_t>(samples));
        part.set_loss(loss);
        part.set_correct(correct);
    }
    return parts;
}

}  // namespace raven::bench
