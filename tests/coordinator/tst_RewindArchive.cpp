// The rewind archive (RewindArchive.h) on disk: a version's state is kept as it was when the state
// file moves on, a step's results are moved in once it is applied, and the retention rule drops a
// step once none of its results can be found wrong any more (no pending credit, no rewind due).
#include <QtTest>

#include "coordinator/DurableFile.h"
#include "coordinator/RewindArchive.h"

using namespace raven;
using namespace raven::coordinator;

class RewindArchiveTest : public QObject {
    Q_OBJECT
private slots:
    void theRuleKeepsWhatMayStillBeRewound() {
        // Nothing pending, nothing due: only the current version (the live state file) is needed.
        QCOMPARE(RewindArchive::keptFrom(7, std::nullopt, std::nullopt), 7);
        // A credit pending at version 4: its contributor may still be caught, step 4 may be rewound.
        QCOMPARE(RewindArchive::keptFrom(7, 4, std::nullopt), 4);
        // A rewind due from step 2 (its contributor's credits already revoked, so not pending) keeps step 2.
        QCOMPARE(RewindArchive::keptFrom(7, 4, 2), 2);
        QCOMPARE(RewindArchive::keptFrom(7, 1, 5), 1);
        // A pending credit of the step in progress keeps no archived step.
        QCOMPARE(RewindArchive::keptFrom(7, 7, std::nullopt), 7);
        QCOMPARE(RewindArchive::keptFrom(0, std::nullopt, std::nullopt), 0);
    }

    void statesAndResultsAreKeptAndDropped() {
        QTemporaryDir data;
        const JobFiles files(data.path(), 9);
        files.create();
        const RewindArchive archive(files);
        QVERIFY(archive.steps().isEmpty());
        for (qint64 v = 0; v < 3; ++v) {
            writeDurably(files.statePath(), QByteArray("state of version ") + QByteArray::number(v));
            writeDurably(files.resultPath(100 + v), QByteArray("a result of step ") + QByteArray::number(v));
            // Step v is applied: its state is kept before the state file holds v + 1, then its results.
            archive.keepState(v);
            writeDurably(files.statePath(), QByteArray("state of version ") + QByteArray::number(v + 1));
            archive.keepResults(v, {100 + v, 555});  // 555 was never accepted: skipped
            QVERIFY(!QFile::exists(files.resultPath(100 + v)));
        }
        QCOMPARE(archive.steps(), (QList<qint64>{0, 1, 2}));
        for (qint64 v = 0; v < 3; ++v) {
            // The kept state is the one the version had, though the state file was replaced since.
            QCOMPARE(readWhole(archive.statePath(v)), QByteArray("state of version ") + QByteArray::number(v));
            QCOMPARE(readWhole(archive.resultPath(v, 100 + v)),
                     QByteArray("a result of step ") + QByteArray::number(v));
        }
        QCOMPARE(readWhole(files.statePath()), QByteArray("state of version 3"));
        QVERIFY(archive.hasStep(1));

        archive.dropBefore(RewindArchive::keptFrom(3, 2, std::nullopt));
        QCOMPARE(archive.steps(), (QList<qint64>{2}));
        QVERIFY(!QFile::exists(archive.resultPath(0, 100)));
        QVERIFY(!QFile::exists(archive.resultPath(1, 101)));
        QVERIFY(QFile::exists(archive.resultPath(2, 102)));
        QVERIFY(!archive.hasStep(1));
        QCOMPARE(readWhole(files.statePath()), QByteArray("state of version 3"));  // never the live file

        // A step applied again after a crash keeps its state and results again, over the old copies.
        writeDurably(files.resultPath(102), QByteArray("again"));
        archive.keepResults(2, {102});
        QCOMPARE(readWhole(archive.resultPath(2, 102)), QByteArray("again"));

        archive.remove();  // the job ended
        QVERIFY(!QDir(archive.dir()).exists());
        QVERIFY(QFile::exists(files.statePath()));
    }

    // A rewind's crash safety: its recomputed files wait in the staging until the state file holds
    // the bytes it announced; a restart takes them when it does, and discards them when it does not
    // (the archive is then untouched, and the rewind due, kept in due.json, is done again).
    void aRewindCutShortIsDiscardedAndAFinishedOneTaken() {
        QTemporaryDir data;
        const JobFiles files(data.path(), 4);
        files.create();
        const RewindArchive archive(files);
        writeDurably(files.statePath(), "old lineage, version 2");
        archive.keepState(2);
        writeDurably(files.resultPath(20), "a wrong result of step 2");
        archive.keepResults(2, {20});
        writeDurably(files.statePath(), "old lineage, version 3");

        QVERIFY(archive.due().empty());
        archive.setDue({20, 21});
        QCOMPARE(RewindArchive(files).due(), (std::set<ledger::WorkUnitId>{20, 21}));  // read back from disk

        const RewindArchive staged = archive.staging();
        const auto stage = [&] {
            QVERIFY(QDir().mkpath(QDir(staged.dir()).filePath("2")));
            writeDurably(staged.resultPath(2, 20), "the replay's result");
            writeDurably(staged.statePath(3), "new lineage, version 3");
        };
        // Cut short before the intent: discarded.
        stage();
        QVERIFY(!archive.settleStaging(files.statePath()));
        QVERIFY(!QDir(staged.dir()).exists());
        QCOMPARE(readWhole(archive.resultPath(2, 20)), QByteArray("a wrong result of step 2"));
        // Cut short after the intent, before the state file was written: discarded too.
        stage();
        archive.beginCommit("new lineage, version 4");
        QVERIFY(!archive.settleStaging(files.statePath()));
        QCOMPARE(readWhole(archive.resultPath(2, 20)), QByteArray("a wrong result of step 2"));
        QVERIFY(!archive.hasStep(3));
        // The state file written: the staged files replace the archived ones.
        stage();
        archive.beginCommit("new lineage, version 4");
        writeDurably(files.statePath(), "new lineage, version 4");
        QVERIFY(archive.settleStaging(files.statePath()));
        QCOMPARE(readWhole(archive.resultPath(2, 20)), QByteArray("the replay's result"));
        QCOMPARE(readWhole(archive.statePath(3)), QByteArray("new lineage, version 3"));
        QCOMPARE(readWhole(archive.statePath(2)),
                 QByteArray("old lineage, version 2"));  // before the rewind's first step
        QVERIFY(!QDir(staged.dir()).exists());
        QCOMPARE(archive.steps(), (QList<qint64>{2, 3}));  // staging/ is never taken for a step

        archive.setDue({});
        QVERIFY(archive.due().empty());
    }
};

QTEST_GUILESS_MAIN(RewindArchiveTest)
#include "tst_RewindArchive.moc"
