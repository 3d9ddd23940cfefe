// SpareFiles: an applied step's result files kept, up to a count and a size per folder, to be written
// over by the next results; the rest removed; a retired job's spares removed with it. On disk in a
// QTemporaryDir.
#include "coordinator/SpareFiles.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using raven::coordinator::SpareFiles;

class SpareFilesTest : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

    QString file(const QString& name, qint64 size) {
        const QString path = QDir(dir_.path()).filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || !f.resize(size)) qFatal("cannot make %s", qPrintable(path));
        return path;
    }
    QStringList onDisk(const QString& pattern) const { return QDir(dir_.path()).entryList({pattern}, QDir::Files); }

private slots:
    void init() {
        for (const QString& f : QDir(dir_.path()).entryList(QDir::Files)) QFile::remove(QDir(dir_.path()).filePath(f));
    }

    void aRecycledFileIsTakenOnceUnderASpareName() {
        SpareFiles spares;
        spares.recycle(file(QStringLiteral("7.result"), 1000));
        QCOMPARE(onDisk(QStringLiteral("*.result")), QStringList());
        QCOMPARE(onDisk(QStringLiteral("*.spare")).size(), 1);
        const std::optional<QString> taken = spares.take(dir_.path());
        QVERIFY(taken.has_value());
        QVERIFY(taken->endsWith(QLatin1String(SpareFiles::kSuffix)));
        QVERIFY(QFile::exists(*taken));
        QVERIFY(!spares.take(dir_.path()).has_value());
    }

    void aFolderWithoutSparesHasNone() {
        SpareFiles spares;
        QVERIFY(!spares.take(dir_.path()).has_value());
        spares.recycle(file(QStringLiteral("1.result"), 10));
        QVERIFY(!spares.take(QDir(dir_.path()).filePath(QStringLiteral("elsewhere"))).has_value());
    }

    void filesBeyondTheCountAreRemoved() {
        SpareFiles spares;
        for (int i = 0; i < SpareFiles::kPerDirectory + 3; ++i)
            spares.recycle(file(QStringLiteral("%1.result").arg(i), 100));
        QCOMPARE(spares.count(dir_.path()), SpareFiles::kPerDirectory);
        QCOMPARE(onDisk(QStringLiteral("*.spare")).size(), SpareFiles::kPerDirectory);
        QCOMPARE(onDisk(QStringLiteral("*.result")), QStringList());
    }

    void filesBeyondTheBytesAreRemoved() {
        // Sparse files: their length counts, not their blocks.
        SpareFiles spares;
        const qint64 third = SpareFiles::kBytesPerDirectory / 3 + 1;
        for (int i = 0; i < 4; ++i) spares.recycle(file(QStringLiteral("%1.result").arg(i), third));
        QCOMPARE(spares.count(dir_.path()), 2);
        QCOMPARE(onDisk(QStringLiteral("*.spare")).size(), 2);
        // Taking one makes room again.
        QVERIFY(spares.take(dir_.path()).has_value());
        spares.recycle(file(QStringLiteral("9.result"), third));
        QCOMPARE(spares.count(dir_.path()), 2);
    }

    void discardRemovesTheFolderSpares() {
        SpareFiles spares;
        for (int i = 0; i < 3; ++i) spares.recycle(file(QStringLiteral("%1.result").arg(i), 100));
        spares.discard(dir_.path());
        QCOMPARE(spares.count(dir_.path()), 0);
        QCOMPARE(QDir(dir_.path()).entryList(QDir::Files), QStringList());
        QVERIFY(!spares.take(dir_.path()).has_value());
    }

    void aFileThatIsGoneIsNotKept() {
        SpareFiles spares;
        spares.recycle(QDir(dir_.path()).filePath(QStringLiteral("never-written.result")));
        QCOMPARE(spares.count(dir_.path()), 0);
    }
};

QTEST_GUILESS_MAIN(SpareFilesTest)
#include "tst_SpareFiles.moc"
