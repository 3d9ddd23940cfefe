// Transfers: the coordinator's outgoing contents, chunked, hashed once, compressed where it pays.
#include <QTest>

#include <cstring>
#include <random>

#include "base/Error.h"
#include "coordinator/Transfers.h"
#include "coordinator/WeightsPush.h"
#include "protocol/Chunking.h"
#include "protocol/Protocol.h"

using namespace raven;
using namespace raven::coordinator;

namespace {

QByteArray reassemble(const std::vector<wire::ContentChunk>& chunks) {
    protocol::ContentAssembler assembler;
    for (const wire::ContentChunk& chunk : chunks) assembler.add(chunk);
    return assembler.complete() ? assembler.content() : QByteArray();
}

}  // namespace

class TestTransfers : public QObject {
    Q_OBJECT

private slots:
    void weightsTravelRawEvenWhereZstdIsAccepted() {
        // Trained fp32 weights barely compress: every worker would decompress them for ~7% of the bytes.
        std::mt19937 rng(3);
        std::normal_distribution<float> normal(0.0f, 0.05f);
        QByteArray weights(600000, Qt::Uninitialized);
        for (int i = 0; i < weights.size() / 4; ++i) {
            const float v = normal(rng);
            std::memcpy(weights.data() + 4 * i, &v, 4);
        }
        Transfers transfers;
        const std::vector<wire::ContentChunk> chunks = transfers.chunks("weights:1:7", weights, true, 0);
        for (const wire::ContentChunk& chunk : chunks) {
            QVERIFY(!chunk.zstd());
            QCOMPARE(chunk.total_bytes(), chunk.raw_bytes());
            QCOMPARE(QString::fromStdString(chunk.content_sha256()), protocol::sha256Hex(weights));
        }
        QCOMPARE(reassemble(chunks), weights);
    }

    void weightsPushedUnhashedAreHashedOnceAskedForWithTheirHash() {
        // Pushed in a grant to a worker that takes them unhashed (LeaseRequest.accept_unhashed_weights):
        // no hash computed; a FetchWeights of the same weights later gets it.
        QByteArray weights(300000, Qt::Uninitialized);
        for (int i = 0; i < weights.size(); ++i) weights[i] = static_cast<char>(i * 7 + i / 251);
        Transfers transfers;
        const std::vector<wire::ContentChunk> pushed = transfers.chunks("weights:2:3", weights, false, 0, false);
        for (const wire::ContentChunk& chunk : pushed) QVERIFY(chunk.content_sha256().empty());
        protocol::ContentAssembler unhashed(1ull << 32, protocol::ContentAssembler::Unhashed::Taken);
        for (const wire::ContentChunk& chunk : pushed) unhashed.add(chunk);
        QCOMPARE(unhashed.content(), weights);
        QVERIFY_THROWS_EXCEPTION(raven::Error, reassemble(pushed));  // where a hash is required
        const std::vector<wire::ContentChunk> fetched = transfers.chunks("weights:2:3", weights, false, 0);
        for (const wire::ContentChunk& chunk : fetched)
            QCOMPARE(QString::fromStdString(chunk.content_sha256()), protocol::sha256Hex(weights));
        QCOMPARE(reassemble(fetched), weights);
    }

    void aGrantPushesWeightsUnhashedOnlyToAWorkerThatTakesThemSo() {
        QByteArray weights(200000, Qt::Uninitialized);
        for (int i = 0; i < weights.size(); ++i) weights[i] = static_cast<char>(i * 13 + i / 509);
        const WeightsLookup weightsOf = [&](ledger::JobId job, qint64 version) {
            return job == 4 && version == 9 ? &weights : nullptr;
        };
        for (const bool unhashed : {false, true}) {
            wire::LeaseRequest request;
            request.set_push_weights(true);
            request.set_accept_unhashed_weights(unhashed);
            wire::LeaseGrant grant;
            wire::WorkUnit& unit = *grant.add_units();
            unit.set_job_id("4");
            unit.set_model_version(9);
            Transfers transfers;
            QCOMPARE(pushWeights(request, grant, weightsOf, transfers).size(), size_t(1));
            QVERIFY(grant.weights_size() > 0);
            for (const wire::WeightsChunk& chunk : grant.weights())
                QCOMPARE(QString::fromStdString(chunk.content().content_sha256()),
                         unhashed ? QString() : protocol::sha256Hex(weights));
        }
    }

    void compressibleContentTravelsCompressedWhereAccepted() {
        QByteArray manifest;
        for (int i = 0; i < 20000; ++i) manifest += "{\"shard\": " + QByteArray::number(i % 131) + "},";
        Transfers transfers;
        const std::vector<wire::ContentChunk> zipped = transfers.chunks("manifest:a", manifest, true, 0);
        QVERIFY(zipped.front().zstd());
        QVERIFY(zipped.front().total_bytes() < zipped.front().raw_bytes() / 4);
        QCOMPARE(reassemble(zipped), manifest);
        // A receiver that did not offer zstd gets the same content raw, under the same key.
        const std::vector<wire::ContentChunk> plain = transfers.chunks("manifest:a", manifest, false, 0);
        QVERIFY(!plain.front().zstd());
        QCOMPARE(reassemble(plain), manifest);
        // Resuming from an offset counts in the bytes that travel.
        const std::vector<wire::ContentChunk> rest = transfers.chunks("manifest:a", manifest, true, 10);
        QCOMPARE(rest.front().offset(), 10u);
        QVERIFY(rest.front().zstd());
    }
};

QTEST_GUILESS_MAIN(TestTransfers)
#include "tst_Transfers.moc"
