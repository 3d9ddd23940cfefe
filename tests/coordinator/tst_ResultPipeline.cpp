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

std::vector<float> floatsOf(const QByteArray& bytes) {
    std::vector<float> values(static_cast<std::size_t>(bytes.size()) / sizeof(float));
    std::memcpy(values.data(), bytes.constData(), values.size() * sizeof(float));
    return values;
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
        // Each result's two files, whole, with the payload's hash as received.
        QCOMPARE(floatsOf(readWhole(files.gradientPath(12))), (std::vector<float>{5.0f, 6.0f}));
        const QJsonObject info = QJsonDocument::fromJson(readWhole(files.resultInfoPath(12))).object();
        QCOMPARE(info.value("samples").toInteger(), 4);
        QCOMPARE(info.value("contributor").toInteger(), 3);
        QCOMPARE(info.value("payload_sha256").toString(), checked(12, {5.0f, 6.0f}).sha256);
        QCOMPARE(QDir(files.resultsDir()).entryList(QDir::Files).size(), 10);  // no temporaries left
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
