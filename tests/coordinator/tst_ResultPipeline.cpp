// The coordinator's result pipeline on its own, with real files in a temporary directory and a real
// thread pool: ResultIngest (decode, hash once, measure, off the calling thread) and GroupCommit
// (results that wait together are made durable together, one unit at a time).
#include <QtTest>

#include <QJsonDocument>
#include <QJsonObject>
#include <QSemaphore>
#include <QTemporaryDir>

#include <cmath>
#include <limits>

#include "coordinator/DurableFile.h"
#include "coordinator/GroupCommit.h"
#include "coordinator/JobRunner.h"
#include "coordinator/ResultFile.h"
#include "base/Error.h"
#include "coordinator/ResultIngest.h"
#include "protocol/Chunking.h"

using namespace raven;
using namespace raven::coordinator;

namespace {

protocol::WorkResult workResult(std::vector<float> gradient, std::uint64_t samples = 4) {
    protocol::WorkResult r;
    r.workUnitId = std::to_string(7);
    r.gradient = std::move(gradient);
    r.sampleCount = samples;
    r.loss = 2.5;
    r.correct = 1;
    r.computeMs = 12;
    return r;
}

// The result as the coordinator has it once every part arrived (ResultAssembler::addPart).
ArrivedResult arrived(const protocol::WorkResult& r, bool zstd, ledger::WorkUnitId unit = 7) {
    ArrivedResult a;
    a.unit = unit;
    a.contributor = 3;
    a.job = 1;
    a.assembler = std::make_unique<protocol::ResultAssembler>(r.gradient.size());
    bool allIn = false;
    for (const wire::SubmitResult& part : protocol::makeSubmitResults(r, wire::GRADIENT_ENCODING_FP32, zstd))
        allIn = a.assembler->addPart(part);
    if (!allIn) qFatal("the parts did not complete the result");
    return a;
}

CheckedResult checked(ledger::WorkUnitId unit, std::vector<float> gradient) {
    return ResultIngest::checkNow(arrived(workResult(std::move(gradient)), false, unit));
}

}  // namespace

class ResultPipelineTest : public QObject {
    Q_OBJECT

private slots:
    void aResultIsDecodedHashedAndMeasuredOffTheCallersThread() {
        QThreadPool pool;
        QObject context;
        ResultIngest ingest(pool, context);
        const protocol::WorkResult sent = workResult({3.0f, -4.0f, 0.0f, 12.0f});
        std::optional<CheckedResult> got;
        QThread* answeredOn = nullptr;
        ingest.check(arrived(sent, true), [&](CheckedResult c) {
            answeredOn = QThread::currentThread();
            got = std::move(c);
        });
        QCOMPARE(ingest.inFlight(), 1);
        QTRY_VERIFY(got.has_value());
        QCOMPARE(ingest.inFlight(), 0);
        QCOMPARE(answeredOn, QThread::currentThread());  // the answer comes back to the context's thread
        QVERIFY(!got->malformed);
        QCOMPARE(got->result.gradient, sent.gradient);
        QCOMPARE(got->result.sampleCount, sent.sampleCount);
        // The hash of the raw payload, the one every chunk announced: computed once, kept.
        QCOMPARE(got->sha256, protocol::sha256Hex(protocol::encodeGradientValues(sent.gradient,
                                                                                 wire::GRADIENT_ENCODING_FP32)));
        QVERIFY(got->facts.finite);
        QCOMPARE(got->facts.gradientNorm, 13.0);
        QCOMPARE(got->unit, ledger::WorkUnitId(7));
        QCOMPARE(got->contributor, ledger::ContributorId(3));
    }

    void aNonFiniteGradientIsFoundWhereItIs() {
        const CheckedResult c = checked(7, {1.0f, std::numeric_limits<float>::infinity(), 2.0f});
        QVERIFY(!c.malformed);
        QVERIFY(!c.facts.finite);
        QCOMPARE(c.facts.firstNonFinite, std::int64_t(1));
    }

    void aPayloadThatDoesNotMatchItsHashIsMalformed() {
        const protocol::WorkResult sent = workResult({1.0f, 2.0f, 3.0f, 4.0f});
        std::vector<wire::SubmitResult> parts = protocol::makeSubmitResults(sent, wire::GRADIENT_ENCODING_FP32, false);
        std::string& data = *parts.back().mutable_gradient()->mutable_content()->mutable_data();
        data[0] = static_cast<char>(data[0] ^ 0x40);  // one bit flipped on the way
        ArrivedResult a;
        a.unit = 7;
        a.assembler = std::make_unique<protocol::ResultAssembler>(sent.gradient.size());
        bool allIn = false;
        for (const wire::SubmitResult& part : parts) allIn = a.assembler->addPart(part);
        QVERIFY(allIn);  // appending checks sizes and order only; the hash is the pool's to check
        const CheckedResult c = ResultIngest::checkNow(std::move(a));
        QVERIFY(c.malformed.has_value());
        QVERIFY2(c.malformed->contains(QLatin1String("hashes to")), qPrintable(*c.malformed));
    }

    void resultsThatWaitTogetherAreWrittenAsOneBatch() {
        QTemporaryDir data;
        const JobFiles files(data.path(), 1);
        files.create();
        QThreadPool pool;
        pool.setMaxThreadCount(1);
        QSemaphore release;
        pool.start([&] { release.acquire(); });  // holds the pool: the first batch waits behind it
        QObject context;
        std::vector<std::vector<ledger::WorkUnitId>> batches;
        GroupCommit commit(pool, context, [&](std::vector<CommitItem> batch) {
            std::vector<ledger::WorkUnitId> units;
            for (const CommitItem& item : batch) {
                QVERIFY(item.failure.isEmpty());
                units.push_back(item.checked.unit);
            }
            batches.push_back(units);
        });
        static_assert(GroupCommit::kBatchesInFlight == 2);
        commit.add({checked(10, {1.0f, 2.0f}), files, {}});  // a batch of one at once
        commit.add({checked(11, {3.0f, 4.0f}), files, {}});  // and a second one beside it
        commit.add({checked(12, {5.0f, 6.0f}), files, {}});  // these wait for a batch to come back
        commit.add({checked(13, {7.0f, 8.0f}), files, {}});
        commit.add({checked(14, {9.0f, 1.0f}), files, {}});
        QVERIFY(commit.holds(10) && commit.holds(14));
        QVERIFY(!commit.idle());
        release.release();
        QTRY_COMPARE(batches.size(), std::size_t(3));
        QCOMPARE(batches[0], (std::vector<ledger::WorkUnitId>{10}));
        QCOMPARE(batches[1], (std::vector<ledger::WorkUnitId>{11}));
        QCOMPARE(batches[2], (std::vector<ledger::WorkUnitId>{12, 13, 14}));
        QCOMPARE(commit.lastBatchSize(), std::size_t(3));
        QVERIFY(commit.idle());
        QVERIFY(!commit.holds(10) && !commit.holds(14));
        // Each result's one file, whole, with the payload's hash as received.
        QJsonObject info;
        const StoredResult stored = ResultFile::read(files.resultPath(12), 2, &info);
        QCOMPARE(stored.gradient, (std::vector<float>{5.0f, 6.0f}));
        QCOMPARE(stored.samples, 4);
        QCOMPARE(stored.contributor, 3);
        QCOMPARE(info.value("payload_sha256").toString(), checked(12, {5.0f, 6.0f}).sha256);
        QCOMPARE(QDir(files.resultsDir()).entryList(QDir::Files).size(), 5);  // one each, no temporaries left
    }

    void aResultFileRoundTrips() {
        QTemporaryDir data;
        const JobFiles files(data.path(), 1);
        files.create();
        protocol::WorkResult r = workResult({1.5f, -0.0f, std::numeric_limits<float>::denorm_min(), 3e38f}, 64);
        r.kernelMode = wire::KERNEL_MODE_VERIFIABLE;
        writeDurably({JobRunner::resultFile(files, 9, 5, r, QStringLiteral("ab12"))});
        QJsonObject info;
        const StoredResult back = ResultFile::read(files.resultPath(9), 4, &info);
        QCOMPARE(std::memcmp(back.gradient.data(), r.gradient.data(), 4 * sizeof(float)), 0);  // bit for bit
        QCOMPARE(back.samples, 64);
        QCOMPARE(back.lossSum, 2.5);
        QCOMPARE(back.correct, 1);
        QCOMPARE(back.contributor, 5);
        QCOMPARE(info.value("payload_sha256").toString(), QStringLiteral("ab12"));
        QCOMPARE(info.value("kernel_mode").toString(), QStringLiteral("verifiable"));
        QCOMPARE(info.value("compute_ms").toInteger(), 12);
        QCOMPARE(ResultFile::info(files.resultPath(9)), info);
        QCOMPARE(QDir(files.resultsDir()).entryList(QDir::Files), QStringList{QStringLiteral("9.result")});
        files.removeResult(9);
        QVERIFY(QDir(files.resultsDir()).entryList(QDir::Files).isEmpty());
    }

    void aTornOrDamagedResultFileIsRefused() {
        QTemporaryDir data;
        const JobFiles files(data.path(), 1);
        files.create();
        const protocol::WorkResult r = workResult({1.0f, 2.0f, 3.0f});
        writeDurably({JobRunner::resultFile(files, 4, 3, r, QString())});
        const QByteArray whole = readWhole(files.resultPath(4));
        QCOMPARE(ResultFile::parse(whole, files.resultPath(4), 3).gradient, r.gradient);
        const auto refused = [&](const QByteArray& bytes, std::int64_t parameters, const char* why) {
            try {
                ResultFile::parse(bytes, QStringLiteral("results/4.result"), parameters);
            } catch (const raven::Error& e) {
                const QString message = QString::fromUtf8(e.what());
                return message.contains(QLatin1String("results/4.result is not a whole result file")) &&
                       message.contains(QLatin1String(why));
            }
            return false;
        };
        // Cut at every length short of the whole: never read, always a clear error.
        for (qsizetype cut = 0; cut < whole.size(); ++cut)
            QVERIFY2(refused(whole.left(cut), 3, cut < 12 ? "does not start" : ""), qPrintable(QString::number(cut)));
        QVERIFY(refused(whole.left(whole.size() - 8), 3, "where its header promises"));
        QVERIFY(refused(whole + QByteArray(4, '\0'), 3, "appended to"));
        QByteArray end = whole;
        end[end.size() - 1] = 'X';
        QVERIFY(refused(end, 3, "does not end with RAVENEND"));
        QByteArray magic = whole;
        magic[0] = 'r';
        QVERIFY(refused(magic, 3, "does not start with RAVENRS1"));
        QByteArray header = whole;
        header[12] = '[';
        QVERIFY(refused(header, 3, "header is not a JSON object"));
        QVERIFY(refused(whole, 4, "holds 3 values where the model has 4"));
        // The two files of the layout before are not a result file.
        QVERIFY(refused(QByteArray(12, '\0'), 3, "does not start"));
    }

    void aBatchThatCannotBeWrittenComesBackWithTheReason() {
        QTemporaryDir data;
        const JobFiles files(data.path(), 1);
        files.create();
        QVERIFY(QDir(files.resultsDir()).removeRecursively());
        QFile blocker(files.resultsDir());  // a file where the results folder should be
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        QThreadPool pool;
        QObject context;
        std::vector<CommitItem> back;
        GroupCommit commit(pool, context, [&](std::vector<CommitItem> batch) { back = std::move(batch); });
        commit.add({checked(20, {1.0f}), files, {}});
        QTRY_COMPARE(back.size(), std::size_t(1));
        QVERIFY2(back[0].failure.contains(QLatin1String("cannot write")), qPrintable(back[0].failure));
        QVERIFY(!commit.holds(20));
    }
};

QTEST_GUILESS_MAIN(ResultPipelineTest)
#include "tst_ResultPipeline.moc"
