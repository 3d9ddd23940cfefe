// ContentCache: the worker's bounded disk cache. Eviction order (least recently used, superseded
// weights first), the size bound, verified reads that delete a corrupt entry, and what survives a
// restart (entries, recency, retention; not the debris of a crash).
#include <QDirIterator>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "base/Error.h"
#include "worker/ContentCache.h"

using namespace raven;
using namespace raven::worker;
using Retention = ContentCache::Retention;

namespace {

QByteArray payload(char fill, int bytes = 1000) { return QByteArray(bytes, fill); }

// Room for exactly `entries` payloads of 1000 bytes.
std::int64_t roomFor(int entries) { return entries * (1000 + ContentCache::kHeaderBytes); }

std::int64_t bytesOnDisk(const QString& dir) {
    std::int64_t total = 0;
    QDirIterator it(dir, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        if (it.fileName() != QLatin1String(".lock")) total += it.fileInfo().size();
    }
    return total;
}

}  // namespace

class TestContentCache : public QObject {
    Q_OBJECT

private slots:
    void storesAndVerifies() {
        QTemporaryDir dir;
        ContentCache cache(dir.path(), roomFor(4));
        QVERIFY(!cache.get("shards/a").has_value());
        QVERIFY(cache.put("shards/a", payload('a')));
        QVERIFY(cache.contains("shards/a"));
        QCOMPARE(*cache.get("shards/a"), payload('a'));
        QVERIFY(QFile::exists(dir.filePath("shards/a.rvc")));
        QCOMPARE(cache.totalBytes(), roomFor(1));
        QVERIFY(cache.put("shards/a", payload('b', 10)));  // replaced, size accounted again
        QCOMPARE(*cache.get("shards/a"), payload('b', 10));
        QCOMPARE(cache.totalBytes(), 10 + ContentCache::kHeaderBytes);
        QVERIFY(cache.put("empty", QByteArray()));
        QCOMPARE(cache.get("empty")->size(), 0);
    }

    void refusesBadNames() {
        QTemporaryDir dir;
        ContentCache cache(dir.path(), roomFor(4));
        for (const char* bad : {"", "../escape", "a//b", "/abs", "a/.hidden", "sp ace", "a/b/"})
            QVERIFY_THROWS_EXCEPTION(Error, cache.put(QString::fromLatin1(bad), payload('x')));
        QVERIFY(ContentCache::isValidName("weights/17/42"));
        QVERIFY(ContentCache::isValidName("shards/3fa2e9"));
    }

    void evictsLeastRecentlyUsed() {
        QTemporaryDir dir;
        ContentCache cache(dir.path(), roomFor(3));
        cache.put("a", payload('a'));
        cache.put("b", payload('b'));
        cache.put("c", payload('c'));
        QVERIFY(cache.get("a"));  // a is now more recent than b and c
        cache.put("d", payload('d'));
        QCOMPARE(cache.names(), (QStringList{"c", "a", "d"}));  // b went
        cache.put("e", payload('e'));
        QCOMPARE(cache.names(), (QStringList{"a", "d", "e"}));
        QVERIFY(!QFile::exists(dir.filePath("b.rvc")));
        QVERIFY(!QFile::exists(dir.filePath("c.rvc")));
    }

    void supersededWeightsGoFirst() {
        QTemporaryDir dir;
        ContentCache cache(dir.path(), roomFor(3));
        cache.put("shards/old", payload('s'));
        cache.put("weights/7/1", payload('1'));
        cache.put("weights/7/2", payload('2'));
        cache.setRetention("weights/7/1", Retention::EvictFirst);
        QVERIFY(cache.get("weights/7/1"));  // recently used, but superseded: still the first victim
        cache.put("shards/new", payload('n'));
        QVERIFY(!cache.contains("weights/7/1"));
        QVERIFY(cache.contains("shards/old"));
        cache.put("shards/newer", payload('m'));  // then plain recency: the oldest shard
        QVERIFY(!cache.contains("shards/old"));
        QVERIFY(cache.contains("weights/7/2"));
    }

    void neverExceedsItsBound() {
        QTemporaryDir dir;
        const std::int64_t bound = 10'000;
        ContentCache cache(dir.path(), bound);
        for (int i = 0; i < 60; ++i) {
            const int size = 300 + (i * 397) % 2500;
            QVERIFY(cache.put(QStringLiteral("shards/%1").arg(i), payload(char('a' + i % 26), size),
                              i % 3 == 0 ? Retention::EvictFirst : Retention::Keep));
            QVERIFY2(cache.totalBytes() <= bound, qPrintable(QString::number(cache.totalBytes())));
            QCOMPARE(bytesOnDisk(dir.path()), cache.totalBytes());
        }
        QVERIFY(cache.contains("shards/59"));               // the newest entry always stays
        QVERIFY(!cache.put("huge", payload('h', 20'000)));  // larger than the whole cache: not stored
        QVERIFY(!cache.contains("huge"));
        QVERIFY(cache.contains("shards/59"));  // and nothing was evicted for it
    }

    void corruptEntryIsDeleted() {
        QTemporaryDir dir;
        ContentCache cache(dir.path(), roomFor(4));
        cache.put("shards/x", payload('x'));
        {
            QFile file(dir.filePath("shards/x.rvc"));
            QVERIFY(file.open(QIODevice::ReadWrite));
            file.seek(ContentCache::kHeaderBytes + 500);
            file.write("y", 1);  // one byte of the payload flipped on disk
        }
        QVERIFY(!cache.get("shards/x").has_value());
        QCOMPARE(cache.corruptEntries(), 1);
        QVERIFY(!cache.contains("shards/x"));
        QVERIFY(!QFile::exists(dir.filePath("shards/x.rvc")));
        QCOMPARE(cache.totalBytes(), 0);
        QVERIFY(cache.put("shards/x", payload('x')));  // fetched again
        QCOMPARE(*cache.get("shards/x"), payload('x'));
    }

    void survivesRestart() {
        QTemporaryDir dir;
        {
            ContentCache cache(dir.path(), roomFor(4));
            cache.put("shards/a", payload('a'));
            cache.put("shards/b", payload('b'));
            cache.put("weights/3/9", payload('w'));
            QTest::qWait(5);
            QVERIFY(cache.get("shards/a"));  // order now: b, weights, a
            cache.setRetention("weights/3/9", Retention::EvictFirst);
            // A second worker on the same folder is refused while this one runs.
            QVERIFY_THROWS_EXCEPTION(Error, ContentCache(dir.path(), roomFor(4)));
        }
        // Debris of a crash: QSaveFile's temporary file and an entry cut short.
        QFile tmp(dir.filePath("shards/c.rvc.Xk3f9a"));
        QVERIFY(tmp.open(QIODevice::WriteOnly));
        tmp.write("half");
        tmp.close();
        QVERIFY(QFile::copy(dir.filePath("shards/b.rvc"), dir.filePath("shards/d.rvc")));
        QVERIFY(QFile::resize(dir.filePath("shards/d.rvc"), 300));

        ContentCache cache(dir.path(), roomFor(4));
        QCOMPARE(cache.names(), (QStringList{"shards/b", "weights/3/9", "shards/a"}));
        QCOMPARE(cache.totalBytes(), roomFor(3));
        QCOMPARE(cache.retention("weights/3/9"), std::optional(Retention::EvictFirst));
        QCOMPARE(*cache.get("shards/b"), payload('b'));
        QVERIFY(!QFile::exists(dir.filePath("shards/c.rvc.Xk3f9a")));
        QVERIFY(!QFile::exists(dir.filePath("shards/d.rvc")));
        cache.put("shards/e", payload('e'));
        cache.put("shards/f", payload('f'));  // over the bound: the superseded weights go first
        QVERIFY(!cache.contains("weights/3/9"));
        QVERIFY(cache.contains("shards/a"));
    }

    void shrinksToASmallerBound() {
        QTemporaryDir dir;
        {
            ContentCache cache(dir.path(), roomFor(4));
            for (const char* n : {"a", "b", "c", "d"}) {
                cache.put(n, payload(n[0]));
                QTest::qWait(2);
            }
        }
        ContentCache cache(dir.path(), roomFor(2));
        QCOMPARE(cache.names(), (QStringList{"c", "d"}));
        QCOMPARE(bytesOnDisk(dir.path()), roomFor(2));
    }
};

QTEST_GUILESS_MAIN(TestContentCache)
#include "tst_ContentCache.moc"
