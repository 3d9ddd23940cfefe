// The group commit's files (DurableFile.h): a result's file is written past the page cache where the
// file system allows O_DIRECT, through it where not and for small files, and either way reads back
// byte for byte at its exact length; a file that cannot be written leaves no temporary behind. On
// disk in a QTemporaryDir; /dev/shm (tmpfs) where there is one.
#include "base/Error.h"
#include "coordinator/DurableFile.h"
#include "coordinator/SpareFiles.h"

#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <unistd.h>

using namespace raven::coordinator;

class DurableFileTest : public QObject {
    Q_OBJECT
private slots:
    void largeFilesGoPastThePageCacheAndReadBackWhole();
    void smallFilesGoThroughThePageCache();
    void aFileSystemWithoutDirectWritesStillGetsWholeFiles();
    void aFileThatCannotBeWrittenLeavesNoTemporary();
    void resultsWrittenOverSparesReadBackWholeAtTheirOwnLength();
    void aSpareThatVanishedGivesWayToANewFile();
};

namespace {

QByteArray randomBytes(qsizetype size, quint32 seed) {
    QByteArray bytes(size, Qt::Uninitialized);
    QRandomGenerator random(seed);
    for (char& c : bytes) c = static_cast<char>(random.generate());
    return bytes;
}

// A result file's shape: a short header, the gradient (the MLP's 235,146 floats: not a multiple of
// the 4 KiB O_DIRECT wants), an 8-byte end mark.
QByteArrayList resultLike(quint32 seed) {
    return {randomBytes(123, seed), randomBytes(940'584, seed + 1), QByteArray("RAVENEND")};
}

bool acceptsDirectWrites(const QString& directory) {
    const QByteArray probe = QFile::encodeName(QDir(directory).filePath(QStringLiteral("probe")));
    const int fd = ::open(probe.constData(), O_WRONLY | O_CREAT | O_DIRECT, 0600);
    if (fd >= 0) ::close(fd);
    ::unlink(probe.constData());
    return fd >= 0;
}

void expectFiles(const std::vector<std::pair<QString, QByteArrayList>>& files) {
    for (const auto& [path, pieces] : files) {
        QCOMPARE(readWhole(path), pieces.join());
        QVERIFY2(!QFile::exists(path + QStringLiteral(".partial")), qPrintable(path));
    }
}

}  // namespace

void DurableFileTest::largeFilesGoPastThePageCacheAndReadBackWhole() {
    QTemporaryDir dir;
    if (!acceptsDirectWrites(dir.path())) QSKIP("this file system refuses O_DIRECT (the fallback is tested below)");
    std::vector<std::pair<QString, QByteArrayList>> files;
    for (quint32 i = 0; i < 3; ++i) files.emplace_back(dir.filePath(QStringLiteral("r%1.result").arg(i)), resultLike(i * 7));
    // One exactly on the alignment, one a byte over it.
    files.emplace_back(dir.filePath(QStringLiteral("aligned")), QByteArrayList{randomBytes(16 * 4096, 99)});
    files.emplace_back(dir.filePath(QStringLiteral("over")), QByteArrayList{randomBytes(16 * 4096 + 1, 98)});
    const quint64 before = filesWrittenPastThePageCache();
    writeDurably(files);
    QCOMPARE(filesWrittenPastThePageCache() - before, quint64(files.size()));
    expectFiles(files);
    // Written again over the same names (a result's file replaced after a restart): the new bytes.
    files[0].second = resultLike(1000);
    writeDurably({files[0]});
    expectFiles(files);
}

void DurableFileTest::smallFilesGoThroughThePageCache() {
    QTemporaryDir dir;
    const std::vector<std::pair<QString, QByteArrayList>> files{
        {dir.filePath(QStringLiteral("small")), {QByteArray("header"), randomBytes(4000, 5), QByteArray("end")}},
        {dir.filePath(QStringLiteral("empty")), {}}};
    const quint64 before = filesWrittenPastThePageCache();
    writeDurably(files);
    QCOMPARE(filesWrittenPastThePageCache(), before);
    expectFiles(files);
}

void DurableFileTest::aFileSystemWithoutDirectWritesStillGetsWholeFiles() {
    if (!QDir(QStringLiteral("/dev/shm")).exists()) QSKIP("no /dev/shm here");
    QTemporaryDir dir(QStringLiteral("/dev/shm/raven-durable-XXXXXX"));
    QVERIFY(dir.isValid());
    const bool direct = acceptsDirectWrites(dir.path());
    const std::vector<std::pair<QString, QByteArrayList>> files{{dir.filePath(QStringLiteral("r.result")), resultLike(3)}};
    const quint64 before = filesWrittenPastThePageCache();
    writeDurably(files);
    QCOMPARE(filesWrittenPastThePageCache() - before, quint64(direct ? 1 : 0));
    expectFiles(files);
}

void DurableFileTest::aFileThatCannotBeWrittenLeavesNoTemporary() {
    QTemporaryDir dir;
    const QString good = dir.filePath(QStringLiteral("good.result"));
    const QString bad = dir.filePath(QStringLiteral("missing/bad.result"));  // its folder does not exist
    try {
        writeDurably({{good, resultLike(1)}, {bad, resultLike(2)}});
        QFAIL("a file in a missing folder was written");
    } catch (const raven::Error& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("bad.result")), e.what());
    }
    // Nothing renamed, and the first file's temporary is gone too.
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList());
}

void DurableFileTest::resultsWrittenOverSparesReadBackWholeAtTheirOwnLength() {
    QTemporaryDir dir;
    SpareFiles spares;
    // Three results of an applied step become spares; the next three are written over them, one as
    // long as its spare, one shorter (a spare's old tail must not stay), one longer.
    const QList<qsizetype> gradients{940'584, 940'584 - 4'100, 940'584 + 9'000};
    for (int i = 0; i < 3; ++i) {
        const QString old = dir.filePath(QStringLiteral("%1.result").arg(i));
        writeDurably({{old, resultLike(static_cast<quint32>(i))}});
        spares.recycle(old);
        QVERIFY(!QFile::exists(old));
    }
    QCOMPARE(spares.count(dir.path()), 3);
    std::vector<std::pair<QString, QByteArrayList>> next;
    for (int i = 0; i < 3; ++i)
        next.emplace_back(dir.filePath(QStringLiteral("%1.result").arg(10 + i)),
                          QByteArrayList{randomBytes(57 + i, 20 + i), randomBytes(gradients[i], 30 + i), "RAVENEND"});
    writeDurably(next, {}, &spares);
    expectFiles(next);
    QCOMPARE(spares.count(dir.path()), 0);
    // Each spare became a result: nothing else is left in the folder.
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 3);
}

void DurableFileTest::aSpareThatVanishedGivesWayToANewFile() {
    QTemporaryDir dir;
    SpareFiles spares;
    const QString old = dir.filePath(QStringLiteral("1.result"));
    writeDurably({{old, resultLike(1)}});
    spares.recycle(old);
    const QStringList kept = QDir(dir.path()).entryList({QStringLiteral("*.spare")}, QDir::Files);
    QCOMPARE(kept.size(), 1);
    QVERIFY(QFile::remove(dir.filePath(kept.front())));  // removed behind the pool's back
    const std::vector<std::pair<QString, QByteArrayList>> next{
        {dir.filePath(QStringLiteral("2.result")), resultLike(2)}};
    writeDurably(next, {}, &spares);
    expectFiles(next);
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("2.result")});
}

QTEST_GUILESS_MAIN(DurableFileTest)
#include "tst_DurableFile.moc"
