// Crash safety: a child process (this test binary in helper mode) credits work units one
// transaction at a time and is killed with SIGKILL in the middle, several times. After each kill
// the database reopens, the audit passes, every done unit has exactly one payment, and a rerun
// over all units pays only those still unpaid: nothing is ever paid twice.
#include "LedgerFixture.h"

#include "ledger/Transaction.h"

#include <QCoreApplication>
#include <QProcess>
#include <QThread>

#include <csignal>
#include <cstdio>

using namespace raven::ledger;
using namespace raven::ledger::test;

namespace {

constexpr int kUnits = 240;
constexpr qint64 kUnitFlops = 3 * kTeraflop / 1000;  // 3000 micro-credits each at 1 credit/TFLOP
const char* const kHelperFlag = "--credit-helper";

// Helper mode: credit every unit of the job in id order, alternating contributors, one line of
// output per credit. Already-paid units (from an earlier, killed run) answer AlreadyPaid.
int runHelper(const QString& path) {
    CoordinatorStore store(path);
    Ledger ledger(store, CreditRate{kCredit}, CreditWindow::none());
    const QList<Job> jobs = store.jobs();
    const QList<ContributorId> contributors{1, 2};
    int paid = 0;
    int already = 0;
    for (const WorkUnit& unit : store.workUnits(jobs.front().id)) {
        const ContributorId who = contributors[static_cast<qsizetype>(unit.id % 2)];
        // Every 25th unit is credited inside an enclosing transaction that stays open a moment after
        // the credit, and says so: the parent can kill the process while the credit is written but
        // not committed.
        std::optional<Transaction> held;
        if (unit.id % 25 == 0) held.emplace(store.connection());
        const CreditResult r = ledger.creditWorkUnit(unit.id, who, unit.flops, QDateTime::currentDateTimeUtc());
        if (held && r.outcome == CreditOutcome::Paid) {
            std::printf("inflight %lld\n", static_cast<long long>(unit.id));
            std::fflush(stdout);
            QThread::msleep(150);
        }
        if (held) held->commit();
        if (r.outcome == CreditOutcome::Paid)
            ++paid;
        else if (r.outcome == CreditOutcome::AlreadyPaid)
            ++already;
        else
            return 3;
        std::printf("%s %lld\n", r.outcome == CreditOutcome::Paid ? "paid" : "already",
                    static_cast<long long>(unit.id));
        std::fflush(stdout);
    }
    std::printf("finished paid=%d already=%d\n", paid, already);
    std::fflush(stdout);
    return 0;
}

struct HelperRun {
    int paid = 0;
    int already = 0;
    bool killed = false;
    WorkUnitId killedInFlight = 0;  // the unit whose credit was written but not committed at the kill
    bool finished = false;          // ran to the end and exited with 0
};

enum class KillAt { Never, AfterPaid, InFlight };

// Starts the helper and sends it SIGKILL: after `paid` new payments were reported (the next
// transaction is then typically in flight), or while a credit is written but not yet committed.
HelperRun runChild(const QString& path, KillAt when, int paid = 0) {
    QProcess child;
    child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    child.start(QCoreApplication::applicationFilePath(), {kHelperFlag, path});
    HelperRun run;
    if (!child.waitForStarted(10000)) return run;
    QByteArray pending;
    while (child.state() != QProcess::NotRunning || child.bytesAvailable() > 0) {
        if (child.bytesAvailable() == 0) child.waitForReadyRead(100);
        pending += child.readAll();
        qsizetype newline;
        while ((newline = pending.indexOf('\n')) >= 0) {
            const QByteArray line = pending.left(newline);
            pending.remove(0, newline + 1);
            if (line.startsWith("paid ")) ++run.paid;
            if (line.startsWith("already ")) ++run.already;
            if (line.startsWith("inflight ") && when == KillAt::InFlight && run.killedInFlight == 0)
                run.killedInFlight = line.mid(9).toLongLong();
        }
        const bool killNow =
            (when == KillAt::AfterPaid && run.paid >= paid) || (when == KillAt::InFlight && run.killedInFlight != 0);
        if (killNow && !run.killed) {
            ::kill(static_cast<pid_t>(child.processId()), SIGKILL);
            run.killed = true;
            child.waitForFinished(10000);
            break;
        }
    }
    child.waitForFinished(30000);
    run.finished = !run.killed && child.exitStatus() == QProcess::NormalExit && child.exitCode() == 0;
    return run;
}

}  // namespace

class CrashSafetyTest : public QObject {
    Q_OBJECT
private slots:
    void killedMidCreditingPaysNothingTwice();
};

void CrashSafetyTest::killedMidCreditingPaysNothingTwice() {
    QTemporaryDir dir;
    const QString path = dir.filePath("coordinator.sqlite");
    const MicroCredits price = kUnitFlops / 1'000'000;  // at 1 credit (10^6 micro) per 10^12 FLOPs
    {
        CoordinatorStore store(path);
        Ledger ledger(store, CreditRate{kCredit}, CreditWindow::none());
        const RequesterId alice = store.addRequester("alice", newSecret(), kT0);
        QCOMPARE(store.addContributor("carol", newSecret(), {}, 1.0, kT0), ContributorId(1));
        QCOMPARE(store.addContributor("dave", newSecret(), {}, 1.0, kT0), ContributorId(2));
        const JobId job = store.addJob({alice, "crash", mlpSpec(), {}, "d"}, kT0);
        QList<NewWorkUnit> units;
        for (int i = 0; i < kUnits; ++i) units << NewWorkUnit{{QString::number(i)}, kUnitFlops};
        store.addWorkUnits(job, 0, units);
        ledger.deposit(alice, kUnits * price * 2, kT0);
        ledger.fundJob(job, kUnits * price + 123, kT0);
    }

    int paidByKilledRuns = 0;
    const QList<std::pair<KillAt, int>> kills{
        {KillAt::AfterPaid, 17}, {KillAt::InFlight, 0}, {KillAt::AfterPaid, 45}, {KillAt::InFlight, 0}};
    for (const auto& [when, killAfter] : kills) {
        const HelperRun run = runChild(path, when, killAfter);
        QVERIFY2(run.killed, "the helper finished before it could be killed; raise kUnits");
        paidByKilledRuns += run.paid;

        CoordinatorStore store(path);
        Ledger ledger(store, CreditRate{kCredit}, CreditWindow::none());
        const AuditReport report = ledger.audit();
        QVERIFY2(report.ok(), qPrintable(report.problems.join('\n')));
        const qint64 done =
            store.connection().scalar("SELECT COUNT(*) FROM work_units WHERE state = 'done'").toLongLong();
        const qint64 credits =
            store.connection().scalar("SELECT COUNT(*) FROM entries WHERE kind = 'work_unit_credit'").toLongLong();
        QCOMPARE(credits, done);
        // Every reported payment is on disk (synchronous=FULL); at most the one in flight may be too.
        QVERIFY2(done >= paidByKilledRuns && done <= paidByKilledRuns + 1,
                 qPrintable(QString("done %1, reported paid %2").arg(done).arg(paidByKilledRuns)));
        if (when == KillAt::InFlight) {
            // The uncommitted credit is gone entirely: neither paid nor done.
            QVERIFY(run.killedInFlight > 0);
            QCOMPARE(store.workUnit(run.killedInFlight)->state, WorkUnitState::Pending);
            QCOMPARE(done, paidByKilledRuns);
            qInfo("killed inside the credit of unit %lld: %lld units done and paid on disk", run.killedInFlight, done);
        } else {
            qInfo("killed after %d new payments reported: %lld units done and paid on disk", killAfter, done);
        }
        paidByKilledRuns = static_cast<int>(done);
        QCOMPARE(ledger.balance(Account::contributor(1)) + ledger.balance(Account::contributor(2)), done * price);
    }

    // A full rerun: the units paid before answer "already", the rest are paid, once.
    const HelperRun last = runChild(path, KillAt::Never);
    QVERIFY(last.finished);
    QCOMPARE(last.already, paidByKilledRuns);
    QCOMPARE(last.paid + last.already, kUnits);

    CoordinatorStore store(path);
    Ledger ledger(store, CreditRate{kCredit}, CreditWindow::none());
    const AuditReport report = ledger.audit();
    QVERIFY2(report.ok(), qPrintable(report.problems.join('\n')));
    QCOMPARE(store.workUnits(1, std::nullopt, WorkUnitState::Done).size(), kUnits);
    QCOMPARE(store.connection().scalar("SELECT COUNT(*) FROM entries WHERE kind = 'work_unit_credit'").toInt(), kUnits);
    QCOMPARE(ledger.balance(Account::contributor(1)), kUnits / 2 * price);
    QCOMPARE(ledger.balance(Account::contributor(2)), kUnits / 2 * price);
    QCOMPARE(ledger.balance(Account::job(1)), 123);
    const JobSpend spend = ledger.jobSpend(1);
    QCOMPARE(spend.paid, kUnits * price);
    QCOMPARE(spend.workUnitsPaid, kUnits);
}

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (argc == 3 && qstrcmp(argv[1], kHelperFlag) == 0) return runHelper(QString::fromLocal8Bit(argv[2]));
    CrashSafetyTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_CrashSafety.moc"
