// Shards, the shard store and manifests: byte-exact round trips, deterministic names and ids,
// hash verification, and the errors for a corrupt shard or an edited manifest. Also the pieces a
// published dataset relies on: the seeded split, normalization and batches.
#include "Fixtures.h"
#include "data/Batch.h"
#include "data/Sharding.h"
#include "data/Split.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QTemporaryDir>
#include <QtTest>

#include <set>

using namespace raven::data;
using namespace raven::testing;

namespace {

// n samples of shape [2,3] with small integer features (valid for every element type), labels i % 4.
Samples smallSamples(std::int64_t n, std::int64_t offset = 0) {
    Samples s({2, 3}, {});
    for (std::int64_t i = 0; i < n; ++i) {
        std::vector<float> x;
        for (int k = 0; k < 6; ++k) x.push_back(float((i + offset) * 3 + k * (k < 3 ? 1 : 2)));
        const std::int32_t y[] = {std::int32_t((i + offset) % 4)};
        s.append(x, y);
    }
    return s;
}

Dataset smallDataset(std::int64_t trainN, std::int64_t testN) {
    Dataset ds;
    ds.name = "small";
    ds.classes = {"a", "b", "c", "d"};
    ds.elementType = ElementType::U8;
    ds.train = smallSamples(trainN);
    ds.test = smallSamples(testN, 1000 % 7);
    ds.normalization = Normalization::fit(ds.train, NormalizationKind::PerChannel);
    return ds;
}

QStringList filesIn(const QString& dir) {
    QStringList names = QDir(dir).entryList(QDir::Files, QDir::Name);
    return names;
}

}  // namespace

class TestSharding : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;

private slots:
    void shardRoundTrip_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<bool>("sequenceLabels");
        QTest::newRow("u8") << int(ElementType::U8) << false;
        QTest::newRow("i32") << int(ElementType::I32) << true;
        QTest::newRow("f32") << int(ElementType::F32) << false;
    }
    void shardRoundTrip() {
        QFETCH(int, type);
        QFETCH(bool, sequenceLabels);
        const auto t = static_cast<ElementType>(type);
        Samples s = sequenceLabels ? Samples({4}, {4}) : smallSamples(5);
        if (sequenceLabels)
            for (int i = 0; i < 3; ++i) {
                const float x[] = {float(i), 1, 2, 3000000};
                const std::int32_t y[] = {1, 2, 3, i};
                s.append(x, y);
            }
        if (t == ElementType::F32) {
            std::vector<float> x = s.allFeatures();
            x[1] = -1.0e-7f;  // an f32 shard keeps any float bit-exactly
            x[2] = 3.14159f;
            s.assign(x, s.allLabels());
        }
        const QByteArray bytes = encodeShard(s, t);
        QVERIFY(bytes.startsWith("RVNSHARD"));
        const std::int64_t header =
            8 + 4 * 4 + 4 * std::int64_t(s.featureShape().size()) + 4 + 4 * std::int64_t(s.labelShape().size());
        QCOMPARE(std::int64_t(bytes.size()),
                 header + s.count() * s.featureSize() * elementBytes(t) + s.count() * s.labelSize() * 4);
        const Shard back = decodeShard(bytes, "test");
        QCOMPARE(toString(back.elementType), toString(t));
        QVERIFY(back.samples == s);
        QCOMPARE(encodeShard(back.samples, t), bytes);  // deterministic encoding
        QCOMPARE(contentHash(bytes),
                 QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex()));
    }

    void decodeErrors() {
        const QByteArray good = encodeShard(smallSamples(3), ElementType::U8);
        expectError([&] { decodeShard(good.left(good.size() - 5), "shard ab12... in /x"); },
                    {"shard ab12... in /x", "truncated: the labels"});
        QByteArray magic = good;
        magic[0] = 'X';
        expectError([&] { decodeShard(magic, "s"); }, {"wrong magic"});
        expectError([&] { decodeShard(good + "zz", "s"); }, {"2 unexpected bytes"});
        QByteArray version = good;
        version[8] = char(7);
        expectError([&] { decodeShard(version, "s"); }, {"shard format version 7"});
        QByteArray huge = good;
        huge[16] = char(0xFF);  // sample count far beyond the shard's size
        huge[17] = char(0xFF);
        expectError([&] { decodeShard(huge, "s"); }, {"sample count"});
    }

    void storeVerifiesHashes() {
        ShardStore store(tmp_.filePath("store"));
        const QByteArray bytes = encodeShard(smallSamples(4), ElementType::U8);
        const QString hash = store.put(bytes);
        QVERIFY(ShardStore::isShardName(hash));
        QCOMPARE(store.put(bytes), hash);  // idempotent
        QCOMPARE(filesIn(store.directory()), QStringList{hash});
        QCOMPARE(readFile(store.pathOf(hash)), bytes);
        QCOMPARE(store.read(hash), bytes);
        QVERIFY(store.load(hash).samples == smallSamples(4));

        // One flipped byte: the name no longer matches the content.
        QByteArray damaged = bytes;
        damaged[damaged.size() - 1] = char(damaged[damaged.size() - 1] ^ 1);
        QFile::remove(store.pathOf(hash));
        writeFile(store.pathOf(hash), damaged);
        const std::string shortName = hash.left(8).toStdString() + "...";
        expectError([&] { store.read(hash); }, {shortName.c_str(), "content hash does not match its name",
                                                "the file is corrupt", "delete it", "re-import or re-fetch"});
        const QString missing(64, QChar('0'));
        expectError([&] { store.read(missing); }, {"00000000... is missing"});
        expectError([&] { store.read("../etc/passwd"); }, {"not a shard name"});
    }

    void publishAndLoadBack() {
        const Dataset ds = smallDataset(70, 9);
        ShardStore store(tmp_.filePath("pub"));
        const Manifest m = publishDataset(ds, store, 32);
        QCOMPARE(m.train.samples, 70);
        QCOMPARE(m.train.shards.size(), std::size_t(3));
        QCOMPARE(m.train.shards[0].samples, 32);
        QCOMPARE(m.train.shards[2].samples, 6);
        QCOMPARE(m.test.shards.size(), std::size_t(1));
        QCOMPARE(m.featureShape, (Shape{2, 3}));
        QCOMPARE(m.id, m.computeId());
        QCOMPARE(filesIn(store.directory()).size(), 4);

        const QString path = tmp_.filePath("small.manifest.json");
        m.save(path);
        const Manifest loaded = Manifest::load(path);
        QVERIFY(loaded == m);
        const Dataset back = loadDataset(loaded, store);
        QVERIFY(back.train == ds.train);
        QVERIFY(back.test == ds.test);
        QCOMPARE(back.classes, ds.classes);
        QVERIFY(back.normalization == ds.normalization);
        QCOMPARE(toString(back.elementType), toString(ds.elementType));

        // One shard at a time, as a contributor reads it.
        const Samples second = loadShardSamples(loaded, loaded.train.shards[1], store);
        QVERIFY(second == ds.train.slice(32, 32));
    }

    void namesAndIdsAreDeterministic() {
        ShardStore a(tmp_.filePath("det-a")), b(tmp_.filePath("det-b"));
        const Manifest ma = publishDataset(smallDataset(40, 5), a);
        const Manifest mb = publishDataset(smallDataset(40, 5), b);
        QCOMPARE(ma.id, mb.id);
        QCOMPARE(ma.toBytes(), mb.toBytes());
        QCOMPARE(filesIn(a.directory()), filesIn(b.directory()));
        // Different data, different id and names.
        Dataset other = smallDataset(40, 5);
        other.classes[3] = "D";
        QVERIFY(publishDataset(other, b).id != ma.id);
        ShardStore c(tmp_.filePath("det-c"));
        const Manifest mc = publishDataset(smallDataset(41, 5), c);
        QCOMPARE(mc.train.shards[0].hash, ma.train.shards[0].hash);  // same first 32 samples
        QVERIFY(mc.train.shards[1].hash != ma.train.shards[1].hash);
    }

    void manifestErrors() {
        ShardStore store(tmp_.filePath("merr"));
        const Manifest m = publishDataset(smallDataset(10, 3), store, 4);
        QJsonObject edited = m.toJson();
        edited["name"] = "renamed";
        expectError([&] { Manifest::fromJson(edited, "m.json"); }, {"m.json", "does not match its content"});
        QJsonObject counts = m.toJson();
        QJsonObject train = counts["train"].toObject();
        train["samples"] = 11;
        counts["train"] = train;
        expectError([&] { Manifest::fromJson(counts, "m.json"); }, {"train.samples is 11 but its shards hold 10"});
        QJsonObject norm = m.toJson();
        norm.remove("normalization");
        expectError([&] { Manifest::fromJson(norm, "m.json"); }, {"missing \"normalization\""});
        expectError([&] { Manifest::fromBytes("{\"format\": \"raven-dataset\",", "m.json"); },
                    {"m.json: not valid JSON"});
        expectError([&] { Manifest::fromBytes("{\"format\": \"other\"}", "m.json"); },
                    {"not a Raven dataset manifest"});

        // A shard from another dataset under the right name is caught by shape.
        Samples wrong({3}, {});
        const float x[] = {1, 2, 3};
        const std::int32_t y[] = {0};
        wrong.append(x, y);
        const QString foreign = store.put(encodeShard(wrong, ElementType::U8));
        expectError([&] { loadShardSamples(m, ShardRef{foreign, 1}, store); }, {"[3]", "another dataset"});
    }

    void seededSplit() {
        const auto p = seededPermutation(50, 7);
        QCOMPARE(p, seededPermutation(50, 7));
        QVERIFY(p != seededPermutation(50, 8));
        QCOMPARE(std::set<std::int64_t>(p.begin(), p.end()).size(), std::size_t(50));
        const auto [train, test] = splitSamples(smallSamples(10), 0.3, 1);
        QCOMPARE(train.count(), 7);
        QCOMPARE(test.count(), 3);
        const auto [train1, test1] = splitSamples(smallSamples(3), 0.01, 1);
        QCOMPARE(test1.count(), 1);  // a requested test split is never empty
        expectError([&] { splitSamples(smallSamples(3), 1.0, 1); }, {"test fraction"});
    }

    void normalizationAndBatches() {
        Samples s({2, 2}, {});
        const float a[] = {1, 3, 10, 10}, b[] = {5, 7, 20, 20};
        const std::int32_t y0[] = {0}, y1[] = {1};
        s.append(a, y0);
        s.append(b, y1);
        const Normalization per = Normalization::fit(s, NormalizationKind::PerChannel);
        QCOMPARE(per.mean, (std::vector<float>{4, 15}));
        QCOMPARE(per.std, (std::vector<float>{std::sqrt(5.0f), 5}));
        const Normalization global = Normalization::fit(s, NormalizationKind::Global);
        QCOMPARE(global.mean, (std::vector<float>{9.5f}));
        const Batch batch = makeBatch(s, std::vector<std::int64_t>{1, 0}, per);
        QCOMPARE(batch.xShape, (Shape{2, 2, 2}));
        QCOMPARE(batch.yShape, (Shape{2}));
        QCOMPARE(batch.y, (std::vector<std::int32_t>{1, 0}));
        QVERIFY(qAbs(batch.x[0] - 1 / std::sqrt(5.0f)) < 1e-6f);  // (5 - 4) / sqrt(5)
        QCOMPARE(batch.x[2], 1.0f);                               // (20 - 15) / 5
        QCOMPARE(batch.x[6], -1.0f);                              // (10 - 15) / 5
        Samples constant({2}, {});
        const float c[] = {3, 3};
        constant.append(c, y0);
        QCOMPARE(Normalization::fit(constant, NormalizationKind::Global).std[0], 1.0f);
    }
};

QTEST_GUILESS_MAIN(TestSharding)
#include "tst_Sharding.moc"
