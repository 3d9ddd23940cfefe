// The result judge over a real store on disk (the ledger tests' World): duplicates, results of
// ended jobs (not the sender's fault), malformed ones (counted against it), the store's outcome as
// the answer, and a unit that eight different contributors failed failing its job.
#include "ledger/LedgerFixture.h"

#include "coordinator/ResultJudge.h"

using namespace raven;
using namespace raven::coordinator;
using namespace raven::ledger;
using namespace raven::ledger::test;

namespace {

CheckedResult resultOf(WorkUnitId unit, ContributorId contributor, JobId job) {
    CheckedResult c;
    c.unit = unit;
    c.contributor = contributor;
    c.job = job;
    c.result.gradient = {1.0f, 2.0f};
    c.result.sampleCount = 4;
    c.facts = ResultFacts::of(c.result.gradient, 4, 1.0, 0);
    return c;
}

struct Court {
    World w;
    std::vector<std::pair<JobId, QString>> failed;
    ResultJudge judge{*w.store, *w.leases, [this](JobId job, const QString& why) { failed.emplace_back(job, why); }};
    Court() { w.fund(100 * kCredit, 100 * kCredit); }
};

}  // namespace

class ResultJudgeTest : public QObject {
    Q_OBJECT
private slots:
    void aResultForADoneUnitIsADuplicate() {
        Court c;
        const QList<WorkUnitId> u = c.w.units(1);
        QCOMPARE(c.w.leases->lease(u[0], c.w.carol, kT0.addSecs(60), kT0), LeaseOutcome::Granted);
        QCOMPARE(c.w.leases->acceptResult(u[0], c.w.carol, kT0).outcome, AcceptOutcome::Accepted);
        const std::optional<wire::ResultAck> ack = c.judge.beforeCommit(resultOf(u[0], c.w.dave, c.w.job), nullptr);
        QVERIFY(ack.has_value());
        QCOMPARE(ack->status(), wire::RESULT_STATUS_DUPLICATE);
    }

    void aResultOfAnEndedJobIsRejectedWithoutCountingAgainstItsSender() {
        Court c;
        const QList<WorkUnitId> u = c.w.units(1);
        QCOMPARE(c.w.leases->lease(u[0], c.w.carol, kT0.addSecs(60), kT0), LeaseOutcome::Granted);
        const std::optional<wire::ResultAck> ack = c.judge.beforeCommit(resultOf(u[0], c.w.carol, c.w.job), nullptr);
        QCOMPARE(ack->status(), wire::RESULT_STATUS_REJECTED);
        QVERIFY(QString::fromStdString(ack->reason()).contains(QLatin1String("has ended")));
        QCOMPARE(c.w.leases->activeLeases(c.w.carol).size(), 1);  // its lease stands
        const std::optional<wire::ResultAck> none = c.judge.beforeCommit(resultOf(999, c.w.carol, c.w.job), nullptr);
        QVERIFY(QString::fromStdString(none->reason()).contains(QLatin1String("no work unit 999")));
    }

    void aMalformedResultIsCountedAgainstItsSender() {
        Court c;
        const QList<WorkUnitId> u = c.w.units(1);
        QCOMPARE(c.w.leases->lease(u[0], c.w.carol, kT0.addSecs(60), kT0), LeaseOutcome::Granted);
        CheckedResult bad = resultOf(u[0], c.w.carol, c.w.job);
        bad.malformed = QStringLiteral("content announced as aa hashes to bb");
        const std::optional<wire::ResultAck> ack = c.judge.beforeCommit(bad, nullptr);
        QCOMPARE(ack->status(), wire::RESULT_STATUS_REJECTED);
        QVERIFY(c.w.leases->activeLeases(c.w.carol).isEmpty());  // the lease ended as rejected
        QCOMPARE(c.w.store->workUnit(u[0])->state, WorkUnitState::Pending);
    }

    void theStoresOutcomeBecomesTheAnswer() {
        Court c;
        const QList<WorkUnitId> u = c.w.units(1);
        const CheckedResult r = resultOf(u[0], c.w.carol, c.w.job);
        AcceptResult accepted{AcceptOutcome::Accepted, 1234, {}};
        wire::ResultAck ack = c.judge.afterAcceptance(r, accepted);
        QCOMPARE(ack.status(), wire::RESULT_STATUS_ACCEPTED);
        QCOMPARE(ack.credited_micro_credits(), 1234);
        ack = c.judge.afterAcceptance(r, AcceptResult{AcceptOutcome::NotLeased, 0, {}});
        QCOMPARE(ack.status(), wire::RESULT_STATUS_REJECTED);
        QVERIFY(QString::fromStdString(ack.reason()).contains(QLatin1String("no lease")));
        ack = c.judge.afterAcceptance(r, AcceptResult{AcceptOutcome::OutOfBudget, 0, {}});
        QVERIFY(QString::fromStdString(ack.reason()).contains(QLatin1String("out of budget")));
        QCOMPARE(c.judge.afterAcceptance(r, AcceptResult{AcceptOutcome::Duplicate, 0, {}}).status(),
                 wire::RESULT_STATUS_DUPLICATE);
    }

    void aUnitThatEightContributorsFailedFailsItsJob() {
        Court c;
        const QList<WorkUnitId> u = c.w.units(2);
        const WorkUnit unit = *c.w.store->workUnit(u[0]);
        for (ContributorId who = 100; who < 100 + ResultJudge::kRejectionsBeforeJobFails - 1; ++who) {
            c.judge.noteUnitFailure(unit, who, QStringLiteral("rejected for"), QStringLiteral("NaN"));
            c.judge.noteUnitFailure(unit, who, QStringLiteral("rejected for"), QStringLiteral("NaN"));  // once each
        }
        QVERIFY(c.failed.empty());
        // Failures of a step already applied are forgotten.
        c.judge.stepApplied({unit});
        for (ContributorId who = 200; who < 200 + ResultJudge::kRejectionsBeforeJobFails - 1; ++who)
            c.judge.noteUnitFailure(unit, who, QStringLiteral("rejected for"), QStringLiteral("NaN"));
        QVERIFY(c.failed.empty());
        c.judge.noteUnitFailure(unit, 300, QStringLiteral("impossible to compute for"), QStringLiteral("out of memory"));
        QCOMPARE(c.failed.size(), std::size_t(1));
        QCOMPARE(c.failed[0].first, c.w.job);
        QVERIFY2(c.failed[0].second.contains(QLatin1String("impossible to compute for 8 different contributors")),
                 qPrintable(c.failed[0].second));
    }
};

QTEST_GUILESS_MAIN(ResultJudgeTest)
#include "tst_ResultJudge.moc"
