// DecodedShards, the worker's decoded shards in memory, on its own and behind the ContentFetcher over a
// real TLS connection: the bound holds with the least recently used dropped first; a shard larger than
// the bound is used but not kept; bytes that are not a shard are refused with the shard named; a shard
// is fetched, verified and decoded once, and then neither the coordinator nor the disk cache is asked
// again while it stays in memory; a shard damaged in the disk cache is fetched again and decoded.
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "base/Error.h"
#include "data/Shard.h"
#include "protocol/ProtocolClient.h"
#include "protocol/TestPeers.h"
#include "worker/ContentCache.h"
#include "worker/ContentFetcher.h"
#include "worker/DecodedShards.h"

using namespace raven;
using namespace raven::worker;
using raven::protocol::ProtocolClient;

namespace {

// A shard of `count` samples of 8 features, each sample's features starting at `first`.
QByteArray shardBytes(int count, float first) {
    data::Samples samples({8}, {});
    for (int i = 0; i < count; ++i) {
        std::vector<float> x(8);
        for (int k = 0; k < 8; ++k) x[static_cast<std::size_t>(k)] = first + static_cast<float>(i * 8 + k);
        const std::int32_t y = i % 3;
        samples.append(x, std::span<const std::int32_t>(&y, 1));
    }
    return data::encodeShard(samples, data::ElementType::F32);
}

}  // namespace

class TestDecodedShards : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    protocol::ServerIdentity identity_;
    std::unique_ptr<protocol::ProtocolServer> server_;
    std::unique_ptr<test::TestCoordinator> coordinator_;
    std::unique_ptr<ProtocolClient> client_;
    QByteArray shard_ = shardBytes(50, 0.5f);
    QString hash_ = data::contentHash(shard_);

    FetchResult fetchDecoded(ContentFetcher& fetcher, const QString& hash) {
        std::optional<FetchResult> got;
        fetcher.fetchDecodedShard(hash, [&](const FetchResult& r) { got = r; });
        if (!QTest::qWaitFor([&] { return got.has_value(); }, 10000)) return {};
        return *got;
    }

private slots:
    void initTestCase() {
        identity_ = protocol::ServerIdentity::generate(QStringLiteral("raven-test"));
        server_ = std::make_unique<protocol::ProtocolServer>(identity_);
        coordinator_ = std::make_unique<test::TestCoordinator>(*server_);
        server_->listen();
        coordinator_->shards.insert(hash_, shard_);
        ProtocolClient::Options options{protocol::PeerInfo{wire::ROLE_CONTRIBUTOR}, dir_.filePath("known_hosts")};
        client_ = std::make_unique<ProtocolClient>(options);
        client_->open(server_->url());
        QVERIFY(QTest::qWaitFor([&] { return client_->isReady(); }, 10000));
    }

    void decodesWhatItIsGiven() {
        const auto decoded = decodeVerifiedShard(hash_, shard_);
        QCOMPARE(decoded->hash, hash_);
        QCOMPARE(decoded->samples.count(), std::int64_t(50));
        QCOMPARE(decoded->samples.features(2)[3], 0.5f + 19.0f);
        QCOMPARE(decoded->samples.label(4), 1);
        QCOMPARE(decoded->bytes(), std::int64_t(50 * 8 * 4 + 50 * 4));
        QCOMPARE(decoded->samples, data::decodeShard(shard_, "x").samples);
    }

    void boundHoldsAndTheLeastRecentlyUsedGoes() {
        const QByteArray a = shardBytes(50, 1), b = shardBytes(50, 2), c = shardBytes(50, 3);
        const QString ha = data::contentHash(a), hb = data::contentHash(b), hc = data::contentHash(c);
        const std::int64_t one = decodeVerifiedShard(ha, a)->bytes();
        DecodedShards shards(2 * one + one / 2);  // room for two
        shards.insert(ha, a);
        shards.insert(hb, b);
        QCOMPARE(shards.heldBytes(), 2 * one);
        QVERIFY(shards.find(ha));  // a is now the most recently used: b goes first
        const auto held = shards.find(hb);
        QVERIFY(shards.find(ha));
        shards.insert(hc, c);
        QCOMPARE(shards.size(), 2);
        QVERIFY(shards.contains(ha));
        QVERIFY(!shards.contains(hb));
        QVERIFY(shards.contains(hc));
        QCOMPARE(shards.evictions(), std::int64_t(1));
        QVERIFY(shards.heldBytes() <= shards.maxBytes());
        QCOMPARE(held->samples.count(), std::int64_t(50));  // a unit holding b keeps it whole
        QCOMPARE(shards.decodes(), std::int64_t(3));
        // Inserting what is held decodes nothing.
        shards.insert(ha, a);
        QCOMPARE(shards.decodes(), std::int64_t(3));
    }

    void aShardAboveTheBoundIsUsedButNotKept() {
        DecodedShards shards(100);
        const auto decoded = shards.insert(hash_, shard_);
        QCOMPARE(decoded->samples.count(), std::int64_t(50));
        QCOMPARE(shards.size(), 0);
        QCOMPARE(shards.heldBytes(), std::int64_t(0));
    }

    void bytesThatAreNoShardAreRefused() {
        DecodedShards shards(1 << 20);
        const QByteArray junk("not a shard at all, just text");
        const QString name = data::contentHash(junk);
        try {
            shards.insert(name, junk);
            QFAIL("junk decoded");
        } catch (const Error& e) {
            QVERIFY2(QString::fromStdString(e.message()).contains(name.left(8)), e.what());
        }
        QCOMPARE(shards.size(), 0);
    }

    void fetchedVerifiedAndDecodedOnce() {
        QTemporaryDir cacheDir;
        ContentCache cache(cacheDir.path(), 64 << 20);
        {
            ContentFetcher fetcher(&cache);
            fetcher.setClient(client_.get());
            for (int i = 0; i < 3; ++i) {
                const FetchResult r = fetchDecoded(fetcher, hash_);
                QVERIFY2(r.ok, qPrintable(r.message));
                QCOMPARE(r.shard->samples.count(), std::int64_t(50));
            }
            QCOMPARE(fetcher.transfers(), std::int64_t(1));
            QCOMPARE(fetcher.decodedShards().decodes(), std::int64_t(1));
            QCOMPARE(fetcher.decodedShards().hits(), std::int64_t(2));
            QCOMPARE(cache.reads(), std::int64_t(0));  // the disk copy is written, never read back
            QVERIFY(cache.contains(ContentFetcher::shardName(hash_)));
        }
        // A restarted worker: the shard comes from disk, verified there once, then from memory.
        ContentFetcher fetcher(&cache);
        fetcher.setClient(client_.get());
        for (int i = 0; i < 3; ++i) QVERIFY(fetchDecoded(fetcher, hash_).ok);
        QCOMPARE(fetcher.transfers(), std::int64_t(0));
        QCOMPARE(cache.reads(), std::int64_t(1));
        QCOMPARE(fetcher.decodedShards().decodes(), std::int64_t(1));
        QCOMPARE(*cache.get(ContentFetcher::shardName(hash_)), shard_);  // the digest stored was the right one
    }

    void aDamagedDiskEntryIsFetchedAgain() {
        QTemporaryDir cacheDir;
        ContentCache cache(cacheDir.path(), 64 << 20);
        {
            ContentFetcher fetcher(&cache);
            fetcher.setClient(client_.get());
            QVERIFY(fetchDecoded(fetcher, hash_).ok);
        }
        {
            QFile file(cacheDir.filePath("shards/" + hash_ + ".rvc"));
            QVERIFY(file.open(QIODevice::ReadWrite));
            file.seek(ContentCache::kHeaderBytes + 100);
            file.write("\x7f\x7f", 2);
        }
        ContentFetcher fetcher(&cache);
        fetcher.setClient(client_.get());
        const FetchResult r = fetchDecoded(fetcher, hash_);
        QVERIFY2(r.ok, qPrintable(r.message));
        QCOMPARE(r.shard->samples, decodeVerifiedShard(hash_, shard_)->samples);
        QCOMPARE(cache.corruptEntries(), std::int64_t(1));
        QCOMPARE(fetcher.transfers(), std::int64_t(1));
        QCOMPARE(*cache.get(ContentFetcher::shardName(hash_)), shard_);
    }

    void undecodableBytesSaySo() {
        const QByteArray junk = QByteArray("verified, but not a shard ").repeated(10);
        const QString name = data::contentHash(junk);
        coordinator_->shards.insert(name, junk);
        ContentFetcher fetcher(nullptr);
        fetcher.setClient(client_.get());
        const FetchResult r = fetchDecoded(fetcher, name);
        QVERIFY(!r.ok);
        QVERIFY(r.undecodable);
        QVERIFY2(r.message.contains(name.left(8)), qPrintable(r.message));
    }
};

QTEST_GUILESS_MAIN(TestDecodedShards)
#include "tst_DecodedShards.moc"
