// ContentFetcher over a real TLS connection: a content comes once from the coordinator and then from
// the cache; a cache file damaged on disk is fetched again; concurrent requests share one transfer;
// a shard whose bytes do not match its name is refused and not cached; the coordinator's errors
// arrive with their code. The server side is the protocol suite's TestCoordinator, which serves shards.
// Weights that come with a grant as an int8 delta (checkpoint/WeightsDelta.h) are rebuilt from the
// version held and kept; a delta whose result has another hash than announced, or whose base is not
// held, is refused and nothing is kept; one that answers a FetchWeights is refused and the whole
// weights fetched instead (and a delta that answers that request fails the fetch).
#include <QTemporaryDir>
#include <QTest>

#include <tuple>

#include "base/Error.h"
#include "checkpoint/WeightsDelta.h"
#include "data/Shard.h"
#include "protocol/Chunking.h"
#include "protocol/ProtocolClient.h"
#include "protocol/TestPeers.h"
#include "worker/ContentCache.h"
#include "worker/ContentFetcher.h"

using namespace raven;
using namespace raven::worker;
using raven::protocol::ProtocolClient;

namespace {

QByteArray bytesOf(char fill, int size) {
    QByteArray b(size, fill);
    for (int i = 0; i < size; i += 7) b[i] = static_cast<char>(i % 251);
    return b;
}

QByteArray asBytes(const std::vector<std::byte>& bytes) {
    return QByteArray(reinterpret_cast<const char*>(bytes.data()), static_cast<qsizetype>(bytes.size()));
}

// The grant's chunks of one weights content of job 7; with a base, a delta to `version` from it.
void addPushed(wire::LeaseGrant& grant, std::uint64_t version, const QByteArray& content,
               std::optional<std::uint64_t> deltaBase = std::nullopt, const QString& weightsSha256 = {}) {
    for (wire::ContentChunk& c : protocol::splitContent(content, false)) {
        wire::WeightsChunk& w = *grant.add_weights();
        w.set_job_id("7");
        w.set_model_version(version);
        if (deltaBase) w.set_delta_base_version(*deltaBase);
        w.set_weights_sha256(weightsSha256.toStdString());
        *w.mutable_content() = std::move(c);
    }
}

}  // namespace

class TestContentFetcher : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    protocol::ServerIdentity identity_;
    std::unique_ptr<protocol::ProtocolServer> server_;
    std::unique_ptr<test::TestCoordinator> coordinator_;
    std::unique_ptr<ProtocolClient> client_;
    QByteArray shard_ = bytesOf('s', 3 * 1024 * 1024 / 2);  // two chunks
    QString hash_;

    // Fetches a shard and waits for the answer.
    FetchResult fetchShard(ContentFetcher& fetcher, const QString& hash) {
        std::optional<FetchResult> got;
        fetcher.fetchShard(hash, [&](const FetchResult& r) { got = r; });
        if (!QTest::qWaitFor([&] { return got.has_value(); }, 10000)) return {};
        return *got;
    }

    // A weights file of job 7 at version 3, the next version published from it, and the delta between.
    static std::tuple<QByteArray, QByteArray, QByteArray> weightsVersions() {
        Checkpoint w;
        w.spec = R"({"input": [4], "layers": [{"type": "linear", "name": "fc", "out": 300}]})";
        w.step = 3;
        std::vector<float> values(1200, 0.25f);
        w.parameters.putFloat32("fc.weight", {300, 4}, values);
        const QByteArray v3 = asBytes(w.toSafeTensors().toBytes());
        for (std::size_t i = 0; i < values.size(); i += 5) values[i] -= 0.125f;
        w.parameters.putFloat32("fc.weight", {300, 4}, values);
        w.step = 4;
        const PublishedStep next = publishWeights(
            std::span(reinterpret_cast<const std::byte*>(v3.constData()), static_cast<std::size_t>(v3.size())), w, 99);
        return {v3, asBytes(next.published), asBytes(next.delta)};
    }

private slots:
    void initTestCase() {
        identity_ = protocol::ServerIdentity::generate(QStringLiteral("raven-test"));
        server_ = std::make_unique<protocol::ProtocolServer>(identity_);
        coordinator_ = std::make_unique<test::TestCoordinator>(*server_);
        server_->listen();
        hash_ = data::contentHash(shard_);
        coordinator_->shards.insert(hash_, shard_);
        ProtocolClient::Options options{protocol::PeerInfo{wire::ROLE_CONTRIBUTOR}, dir_.filePath("known_hosts")};
        client_ = std::make_unique<ProtocolClient>(options);
        client_->open(server_->url());
        QVERIFY(QTest::qWaitFor([&] { return client_->isReady(); }, 10000));
    }

    void cachedAfterTheFirstTransfer() {
        QTemporaryDir cacheDir;
        ContentCache cache(cacheDir.path(), 64 << 20);
        ContentFetcher fetcher(&cache);
        fetcher.setClient(client_.get());
        FetchResult first = fetchShard(fetcher, hash_);
        QVERIFY2(first.ok, qPrintable(first.message));
        QCOMPARE(*first.bytes, shard_);
        QCOMPARE(fetcher.transfers(), 1);
        QVERIFY(fetcher.bytesReceived() > 0);
        QVERIFY(cache.contains(ContentFetcher::shardName(hash_)));

        const std::int64_t received = fetcher.bytesReceived();
        FetchResult second = fetchShard(fetcher, hash_);
        QVERIFY(second.ok);
        QCOMPARE(*second.bytes, shard_);
        QCOMPARE(fetcher.transfers(), 1);
        QCOMPARE(fetcher.cacheHits(), 1);
        QCOMPARE(fetcher.bytesReceived(), received);
    }

    void corruptCacheFileIsFetchedAgain() {
        QTemporaryDir cacheDir;
        ContentCache cache(cacheDir.path(), 64 << 20);
        ContentFetcher fetcher(&cache);
        fetcher.setClient(client_.get());
        QVERIFY(fetchShard(fetcher, hash_).ok);
        {
            QFile file(cacheDir.filePath("shards/" + hash_ + ".rvc"));
            QVERIFY(file.open(QIODevice::ReadWrite));
            file.seek(ContentCache::kHeaderBytes + 1000);
            file.write("\x7f\x7f", 2);
        }
        FetchResult again = fetchShard(fetcher, hash_);
        QVERIFY2(again.ok, qPrintable(again.message));
        QCOMPARE(*again.bytes, shard_);
        QCOMPARE(fetcher.transfers(), 2);
        QCOMPARE(cache.corruptEntries(), 1);
        QCOMPARE(*cache.get(ContentFetcher::shardName(hash_)), shard_);  // the good bytes are back on disk
    }

    void concurrentRequestsShareOneTransfer() {
        ContentFetcher fetcher(nullptr);
        fetcher.setClient(client_.get());
        int answers = 0;
        for (int i = 0; i < 3; ++i)
            fetcher.fetchShard(hash_, [&](const FetchResult& r) { answers += r.ok && *r.bytes == shard_ ? 1 : 100; });
        QVERIFY(QTest::qWaitFor([&] { return answers >= 3; }, 10000));
        QCOMPARE(answers, 3);
        QCOMPARE(fetcher.transfers(), 1);
    }

    void refusesBytesThatDoNotMatchTheName() {
        QTemporaryDir cacheDir;
        ContentCache cache(cacheDir.path(), 64 << 20);
        ContentFetcher fetcher(&cache);
        fetcher.setClient(client_.get());
        const QString liar = data::contentHash("what was asked for");
        coordinator_->shards.insert(liar, bytesOf('x', 5000));  // a hostile or broken coordinator
        FetchResult r = fetchShard(fetcher, liar);
        QVERIFY(!r.ok);
        QCOMPARE(r.code, wire::ERROR_CODE_INTERNAL);
        QVERIFY2(r.message.contains("do not hash to its name"), qPrintable(r.message));
        QVERIFY(!cache.contains(ContentFetcher::shardName(liar)));
    }

    void coordinatorErrorsKeepTheirCode() {
        ContentFetcher fetcher(nullptr);
        fetcher.setClient(client_.get());
        FetchResult missing = fetchShard(fetcher, data::contentHash("nobody has this"));
        QVERIFY(!missing.ok);
        QCOMPARE(missing.code, wire::ERROR_CODE_NOT_FOUND);

        std::optional<FetchResult> weights;
        fetcher.fetchWeights("5", 3, [&](const FetchResult& r) { weights = r; });
        QVERIFY(QTest::qWaitFor([&] { return weights.has_value(); }, 10000));
        QVERIFY(!weights->ok);
        QCOMPARE(weights->code, wire::ERROR_CODE_INVALID_ARGUMENT);  // the test coordinator serves shards only
    }

    void pushedWeightsDeltas() {
        ContentFetcher fetcher(nullptr);
        const auto [v3, v4, delta] = weightsVersions();
        const QString sha4 = protocol::sha256Hex(v4);
        wire::LeaseGrant grant;
        addPushed(grant, 3, v3);
        addPushed(grant, 4, delta, 3, sha4);
        QVERIFY(fetcher.takePushedWeights(grant).isEmpty());
        QCOMPARE(fetcher.weightsDeltasApplied(), 1);
        QCOMPARE(fetcher.weightsDeltaBytes(), delta.size());
        std::optional<FetchResult> got;
        fetcher.fetchWeights(QStringLiteral("7"), 4, [&](const FetchResult& r) { got = r; });  // from memory
        QVERIFY(got && got->ok);
        QCOMPARE(*got->bytes, v4);

        // One int8 value changed on the way: the delta applies, but not to the announced weights.
        QByteArray flipped = delta;
        flipped[4 + 11] = static_cast<char>(flipped[4 + 11] ^ 1);  // a 0 becomes a 1: valid, but other weights
        wire::LeaseGrant corrupt;
        addPushed(corrupt, 5, flipped, 4, sha4);
        QStringList problems = fetcher.takePushedWeights(corrupt);
        QCOMPARE(problems.size(), 1);
        QVERIFY2(problems[0].contains("refused") && problems[0].contains("hash"), qPrintable(problems[0]));
        // A delta from a version not held, and one cut short.
        wire::LeaseGrant unheld;
        addPushed(unheld, 9, delta, 8, sha4);
        addPushed(unheld, 5, delta.left(delta.size() - 3), 4, sha4);
        problems = fetcher.takePushedWeights(unheld);
        QCOMPARE(problems.size(), 2);
        QVERIFY2(problems[0].contains("which this worker does not hold"), qPrintable(problems[0]));
        QVERIFY2(problems[1].contains("does not hold 1200 values"), qPrintable(problems[1]));
        QCOMPARE(fetcher.weightsDeltasRefused(), 2);  // the hash mismatch and the short one
        for (const auto& [job, version] : fetcher.weightsHeld()) QVERIFY(version == 3 || version == 4);
    }

    // Over the connection: a FetchWeights names the version held; the coordinator's delta makes other
    // weights than it announces, so the worker says so and fetches the whole weights, which it keeps.
    void refusedDeltaIsFetchedWhole() {
        ContentFetcher fetcher(nullptr);
        fetcher.setClient(client_.get());
        QStringList warnings;
        fetcher.setWarning([&](const QString& w) { warnings << w; });
        const auto [v3, v4, delta] = weightsVersions();
        wire::LeaseGrant grant;
        addPushed(grant, 3, v3);
        QVERIFY(fetcher.takePushedWeights(grant).isEmpty());
        QByteArray flipped = delta;
        flipped[4 + 11] = static_cast<char>(flipped[4 + 11] ^ 1);  // a 0 becomes a 1: valid, but other weights
        std::vector<std::optional<std::uint64_t>> asked;
        coordinator_->weights = [&](const wire::FetchWeights& f) {
            asked.push_back(f.has_base_version() ? std::optional(f.base_version()) : std::nullopt);
            wire::LeaseGrant reply;  // the same chunks a grant would carry
            if (f.has_base_version())
                addPushed(reply, f.model_version(), flipped, f.base_version(), protocol::sha256Hex(v4));
            else
                addPushed(reply, f.model_version(), v4);
            return std::vector<wire::WeightsChunk>(reply.weights().begin(), reply.weights().end());
        };
        std::optional<FetchResult> got;
        fetcher.fetchWeights(QStringLiteral("7"), 4, [&](const FetchResult& r) { got = r; });
        QVERIFY(QTest::qWaitFor([&] { return got.has_value(); }, 10000));
        coordinator_->weights = nullptr;
        QVERIFY2(got->ok, qPrintable(got->message));
        QCOMPARE(*got->bytes, v4);
        QCOMPARE(asked.size(), std::size_t(2));
        QCOMPARE(asked[0], std::optional<std::uint64_t>(3));
        QVERIFY(!asked[1].has_value());
        QCOMPARE(fetcher.weightsDeltasRefused(), 1);
        QCOMPARE(warnings.size(), 1);
        QVERIFY2(warnings[0].contains("refused") && warnings[0].contains("hash") && warnings[0].contains("whole"),
                 qPrintable(warnings[0]));

        // A coordinator that answers even the whole-weights request with a delta: the fetch fails, once.
        asked.clear();
        coordinator_->weights = [&](const wire::FetchWeights& f) {
            asked.push_back(f.has_base_version() ? std::optional(f.base_version()) : std::nullopt);
            wire::LeaseGrant reply;
            addPushed(reply, f.model_version(), flipped, f.model_version() - 1, protocol::sha256Hex(v4));
            return std::vector<wire::WeightsChunk>(reply.weights().begin(), reply.weights().end());
        };
        got.reset();
        fetcher.fetchWeights(QStringLiteral("7"), 5, [&](const FetchResult& r) { got = r; });
        QVERIFY(QTest::qWaitFor([&] { return got.has_value(); }, 10000));
        coordinator_->weights = nullptr;
        QVERIFY(!got->ok);
        QVERIFY2(got->message.contains("whole weights were asked for"), qPrintable(got->message));
        QCOMPARE(asked.size(), std::size_t(2));
    }

    void withoutAConnection() {
        ContentFetcher fetcher(nullptr);
        FetchResult r;
        fetcher.fetchShard(hash_, [&](const FetchResult& got) { r = got; });
        QVERIFY(!r.ok);
        QCOMPARE(r.code, wire::ERROR_CODE_UNAVAILABLE);
    }
};

QTEST_GUILESS_MAIN(TestContentFetcher)
#include "tst_ContentFetcher.moc"
