// The double-entry ledger: balances after a sequence of operations, exactly-once crediting,
// out-of-budget refusal, refunds, prices, statistics, and an audit that does catch tampering.
#include "LedgerFixture.h"

#include "base/Error.h"

#include <atomic>
#include <limits>
#include <thread>

using namespace raven::ledger;
using namespace raven::ledger::test;

class LedgerTest : public QObject {
    Q_OBJECT
private slots:
    void balancesAndAuditAfterASequence();
    void creditsEachWorkUnitExactlyOnce();
    void paymentsReusePreparedStatements();
    void refusesWhenEscrowCannotPay();
    void fundingBeyondFundsIsRefused();
    void endedJobsRefundAndPayNothing();
    void priceIsFloorOfFlopsTimesRate_data();
    void priceIsFloorOfFlopsTimesRate();
    void zeroPriceUnitIsStillPaidOnce();
    void contributorStatsAndJobSpend();
    void schemaRefusesNegativeBalancesAndRewrites();
    void auditCatchesTampering();
    void auditBesideAPayingCoordinatorReadsOneMoment();
};

void LedgerTest::balancesAndAuditAfterASequence() {
    World w;
    const QList<WorkUnitId> u = w.units(3);
    w.fund(10 * kCredit, 4 * kCredit);
    QCOMPARE(w.store->job(w.job)->budget, 4 * kCredit);
    QCOMPARE(w.ledger->creditWorkUnit(u[0], w.carol, kTeraflop, kT0).outcome, CreditOutcome::Paid);
    QCOMPARE(w.ledger->creditWorkUnit(u[1], w.dave, kTeraflop, kT0).outcome, CreditOutcome::Paid);
    const CreditResult third = w.ledger->creditWorkUnit(u[2], w.carol, 2 * kTeraflop / 2, kT0.addSecs(5));
    QCOMPARE(third.outcome, CreditOutcome::Paid);
    QCOMPARE(third.amount, kCredit);

    QCOMPARE(w.ledger->balance(Account::mint()), -10 * kCredit);
    QCOMPARE(w.ledger->balance(Account::requester(w.alice)), 6 * kCredit);
    QCOMPARE(w.ledger->balance(Account::job(w.job)), 1 * kCredit);
    QCOMPARE(w.ledger->balance(Account::contributor(w.carol)), 2 * kCredit);
    QCOMPARE(w.ledger->balance(Account::contributor(w.dave)), 1 * kCredit);

    const WorkUnit done = *w.store->workUnit(u[2]);
    QCOMPARE(done.state, WorkUnitState::Done);
    QCOMPARE(done.acceptedFrom, std::optional<ContributorId>(w.carol));
    QCOMPARE(done.acceptedAt, kT0.addSecs(5));

    QCOMPARE(w.ledger->endJob(w.job, JobState::Done, kT0), 1 * kCredit);
    QCOMPARE(w.ledger->balance(Account::requester(w.alice)), 7 * kCredit);
    QCOMPARE(w.ledger->balance(Account::job(w.job)), 0);
    QCOMPARE(w.store->job(w.job)->state, JobState::Done);

    const JobSpend spend = w.ledger->jobSpend(w.job);
    QCOMPARE(spend.funded, 4 * kCredit);
    QCOMPARE(spend.paid, 3 * kCredit);
    QCOMPARE(spend.refunded, 1 * kCredit);
    QCOMPARE(spend.escrow, 0);
    QCOMPARE(spend.workUnitsPaid, 3);
    QCOMPARE(spend.flopsPaid, 3 * kTeraflop);

    const AuditReport report = w.ledger->audit();
    QVERIFY2(report.ok(), qPrintable(report.problems.join('\n')));
    // Without a verification window each credit is paid into the pending account and confirmed in
    // the same transaction: two entries per unit.
    QCOMPARE(report.entries, 9);    // deposit, fund, 3 credits, 3 confirmations, refund
    QCOMPARE(report.postings, 18);  // two each
    QCOMPARE(report.accounts, 7);   // mint, alice, job, carol, dave, carol's and dave's pending
}

void LedgerTest::creditsEachWorkUnitExactlyOnce() {
    World w;
    const QList<WorkUnitId> u = w.units(1);
    w.fund(10 * kCredit, 10 * kCredit);
    const CreditResult first = w.ledger->creditWorkUnit(u[0], w.carol, kTeraflop, kT0);
    QCOMPARE(first.outcome, CreditOutcome::Paid);
    QVERIFY(first.entry > 0);

    // The same result again (a retransmission), and a second contributor's result for the same unit.
    const CreditResult again = w.ledger->creditWorkUnit(u[0], w.carol, kTeraflop, kT0.addSecs(1));
    QCOMPARE(again.outcome, CreditOutcome::AlreadyPaid);
    QCOMPARE(again.entry, first.entry);
    QCOMPARE(again.amount, kCredit);
    QCOMPARE(w.ledger->creditWorkUnit(u[0], w.dave, 5 * kTeraflop, kT0.addSecs(2)).outcome, CreditOutcome::AlreadyPaid);

    QCOMPARE(w.ledger->balance(Account::contributor(w.carol)), kCredit);
    QCOMPARE(w.ledger->balance(Account::contributor(w.dave)), 0);
    QCOMPARE(w.ledger->balance(Account::job(w.job)), 9 * kCredit);
    QCOMPARE(w.store->workUnit(u[0])->acceptedFrom, std::optional<ContributorId>(w.carol));
    QCOMPARE(w.store->workUnit(u[0])->acceptedAt, kT0);

    // The UNIQUE constraint itself refuses a second payment entry, whatever the code above it does.
    bool refused = false;
    try {
        w.store->connection().exec(
            "INSERT INTO entries (kind, created_at, job, work_unit, flops) "
            "VALUES ('work_unit_credit', 0, ?, ?, 1)",
            {w.job, u[0]});
    } catch (const raven::Error& e) {
        refused = QString::fromStdString(e.message()).contains("UNIQUE");
    }
    QVERIFY(refused);

    // After reopening (a restart), still paid once.
    w.open();
    QCOMPARE(w.ledger->creditWorkUnit(u[0], w.carol, kTeraflop, kT0).outcome, CreditOutcome::AlreadyPaid);
    QCOMPARE(w.ledger->balance(Account::contributor(w.carol)), kCredit);
    w.expectSound();
}

void LedgerTest::paymentsReusePreparedStatements() {
    // The coordinator pays every accepted result, several statements each: after the first payment
    // (and its confirmation), the next ones run the statements prepared then, parsing nothing anew.
    for (const CreditWindow window : {CreditWindow::none(), CreditWindow{600, 3}}) {
        World w(window);
        const QList<WorkUnitId> u = w.units(4);
        w.fund(10 * kCredit, 10 * kCredit);
        QCOMPARE(w.ledger->creditWorkUnit(u[0], w.carol, kTeraflop, kT0).outcome, CreditOutcome::Paid);
        QCOMPARE(w.ledger->confirmCredit(u[0], kT0), window.isNone() ? false : true);
        const quint64 prepared = w.store->connection().statementsPrepared();
        const quint64 uncached = w.store->connection().statementsUncached();
        const quint64 reused = w.store->connection().statementsReused();
        for (int i = 1; i < 4; ++i) {
            QCOMPARE(w.ledger->creditWorkUnit(u[i], i % 2 ? w.dave : w.carol, kTeraflop, kT0).outcome,
                     CreditOutcome::Paid);
            QCOMPARE(w.ledger->confirmCredit(u[i], kT0), window.isNone() ? false : true);
        }
        QCOMPARE(w.store->connection().statementsPrepared(), prepared);
        QCOMPARE(w.store->connection().statementsUncached(), uncached);
        QVERIFY(w.store->connection().statementsReused() > reused);
        QCOMPARE(w.ledger->balance(Account::contributor(w.carol)) + w.ledger->balance(Account::contributor(w.dave)),
                 4 * kCredit);
        w.expectSound();
    }
}

void LedgerTest::refusesWhenEscrowCannotPay() {
    World w;
    const QList<WorkUnitId> u = w.units(4);
    w.fund(10 * kCredit, 2 * kCredit + kCredit / 2);  // 2.5 credits for four 1-credit units
    w.store->setJobState(w.job, JobState::Running, kT0);
    QCOMPARE(w.ledger->creditWorkUnit(u[0], w.carol, kTeraflop, kT0).outcome, CreditOutcome::Paid);
    QCOMPARE(w.ledger->creditWorkUnit(u[1], w.dave, kTeraflop, kT0).outcome, CreditOutcome::Paid);

    const CreditResult refused = w.ledger->creditWorkUnit(u[2], w.carol, kTeraflop, kT0);
    QCOMPARE(refused.outcome, CreditOutcome::OutOfBudget);
    QCOMPARE(refused.amount, 0);
    QCOMPARE(w.store->job(w.job)->state, JobState::OutOfBudget);
    QCOMPARE(w.store->workUnit(u[2])->state, WorkUnitState::Pending);
    QCOMPARE(w.ledger->balance(Account::job(w.job)), kCredit / 2);
    QCOMPARE(w.ledger->balance(Account::contributor(w.carol)), kCredit);
    w.expectSound();

    // Funding again makes the job paused (not running: the scheduler decides), and the unit payable.
    w.ledger->fundJob(w.job, kCredit, kT0);
    QCOMPARE(w.store->job(w.job)->state, JobState::Paused);
    QCOMPARE(w.ledger->creditWorkUnit(u[2], w.carol, kTeraflop, kT0).outcome, CreditOutcome::Paid);
    QCOMPARE(w.ledger->balance(Account::job(w.job)), kCredit / 2);
    QCOMPARE(w.store->job(w.job)->budget, 3 * kCredit + kCredit / 2);
    w.expectSound();
}

void LedgerTest::fundingBeyondFundsIsRefused() {
    World w;
    w.ledger->deposit(w.alice, 3 * kCredit, kT0);
    try {
        w.ledger->fundJob(w.job, 5 * kCredit, kT0);
        QFAIL("funding beyond the requester's funds was accepted");
    } catch (const raven::Error& e) {
        QVERIFY2(QString::fromStdString(e.message()).contains("less than"), e.what());
        QVERIFY(!e.hint().empty());
    }
    QCOMPARE(w.ledger->balance(Account::requester(w.alice)), 3 * kCredit);
    QCOMPARE(w.ledger->balance(Account::job(w.job)), 0);
    QCOMPARE(w.store->job(w.job)->budget, 0);
    QVERIFY_THROWS_EXCEPTION(raven::Error, w.ledger->deposit(w.alice, 0, kT0));
    QVERIFY_THROWS_EXCEPTION(raven::Error, w.ledger->deposit(w.alice + 100, kCredit, kT0));
    w.expectSound();
}

void LedgerTest::endedJobsRefundAndPayNothing() {
    World w;
    const QList<WorkUnitId> u = w.units(2);
    w.fund(10 * kCredit, 5 * kCredit);
    QCOMPARE(w.ledger->creditWorkUnit(u[0], w.carol, kTeraflop, kT0).outcome, CreditOutcome::Paid);
    QCOMPARE(w.ledger->endJob(w.job, JobState::Cancelled, kT0), 4 * kCredit);
    QCOMPARE(w.ledger->endJob(w.job, JobState::Cancelled, kT0), 0);  // a replay changes nothing
    QVERIFY_THROWS_EXCEPTION(raven::Error, w.ledger->endJob(w.job, JobState::Done, kT0));
    QVERIFY_THROWS_EXCEPTION(raven::Error, w.ledger->endJob(w.job, JobState::Paused, kT0));
    QCOMPARE(w.ledger->creditWorkUnit(u[1], w.dave, kTeraflop, kT0).outcome, CreditOutcome::JobEnded);
    QCOMPARE(w.store->workUnit(u[1])->state, WorkUnitState::Pending);
    QVERIFY_THROWS_EXCEPTION(raven::Error, w.ledger->fundJob(w.job, kCredit, kT0));
    QVERIFY_THROWS_EXCEPTION(raven::Error, w.store->setJobState(w.job, JobState::Running, kT0));
    QCOMPARE(w.ledger->balance(Account::requester(w.alice)), 9 * kCredit);
    QCOMPARE(w.ledger->balance(Account::contributor(w.dave)), 0);
    w.expectSound();
}

void LedgerTest::priceIsFloorOfFlopsTimesRate_data() {
    QTest::addColumn<qint64>("flops");
    QTest::addColumn<qint64>("perTeraflop");
    QTest::addColumn<qint64>("price");
    QTest::newRow("one TFLOP") << kTeraflop << kCredit << kCredit;
    QTest::newRow("1.5 TFLOP") << kTeraflop * 3 / 2 << kCredit << kCredit * 3 / 2;
    QTest::newRow("MLP shard, rounds down") << qint64(45'123'456) << kCredit << qint64(45);
    QTest::newRow("below one micro-credit") << qint64(999'999) << kCredit << qint64(0);
    QTest::newRow("exactly one micro-credit") << qint64(1'000'000) << kCredit << qint64(1);
    QTest::newRow("beyond 64-bit product")
        << qint64(9'000'000'000'000'000'000) << qint64(1000) << qint64(9'000'000'000);
}

void LedgerTest::priceIsFloorOfFlopsTimesRate() {
    QFETCH(qint64, flops);
    QFETCH(qint64, perTeraflop);
    QFETCH(qint64, price);
    World w;
    const Ledger ledger(*w.store, CreditRate{perTeraflop});
    QCOMPARE(ledger.priceOf(flops), price);
}

void LedgerTest::zeroPriceUnitIsStillPaidOnce() {
    World w;
    const QList<WorkUnitId> u = w.store->addWorkUnits(w.job, 0, {NewWorkUnit{{"tiny"}, 10}});
    w.fund(kCredit, kCredit);
    const CreditResult r = w.ledger->creditWorkUnit(u[0], w.carol, 10, kT0);
    QCOMPARE(r.outcome, CreditOutcome::Paid);
    QCOMPARE(r.amount, 0);
    QCOMPARE(w.store->workUnit(u[0])->state, WorkUnitState::Done);
    QCOMPARE(w.ledger->creditWorkUnit(u[0], w.dave, 10, kT0).outcome, CreditOutcome::AlreadyPaid);
    QCOMPARE(w.ledger->contributorStats(w.carol, 1, kT0).workUnitsAccepted, 1);
    w.expectSound();
    const Ledger expensive(*w.store, CreditRate{10 * kCredit * kCredit});
    QVERIFY_THROWS_EXCEPTION(raven::Error, expensive.priceOf(std::numeric_limits<qint64>::max()));
}

void LedgerTest::contributorStatsAndJobSpend() {
    World w;
    const QList<WorkUnitId> u = w.units(5);
    w.fund(100 * kCredit, 100 * kCredit);
    w.store->setJobState(w.job, JobState::Running, kT0);
    const QDateTime today = kT0;
    QCOMPARE(w.ledger->creditWorkUnit(u[0], w.carol, 2 * kTeraflop, today.addDays(-5)).outcome, CreditOutcome::Paid);
    QCOMPARE(w.ledger->creditWorkUnit(u[1], w.carol, 1 * kTeraflop, today.addDays(-2)).outcome, CreditOutcome::Paid);
    QCOMPARE(w.ledger->creditWorkUnit(u[2], w.carol, 3 * kTeraflop, today.addSecs(-3600)).outcome, CreditOutcome::Paid);
    QCOMPARE(w.ledger->creditWorkUnit(u[3], w.dave, 4 * kTeraflop, today).outcome, CreditOutcome::Paid);
    QCOMPARE(w.leases->lease(u[4], w.carol, today.addSecs(60), today), LeaseOutcome::Granted);
    QVERIFY(w.leases->rejectResult(u[4], w.carol, "gradient has NaN", today));

    const ContributorStats carol = w.ledger->contributorStats(w.carol, 3, today);
    QCOMPARE(carol.workUnitsAccepted, 3);
    QCOMPARE(carol.resultsRejected, 1);
    QCOMPARE(carol.flopsAccepted, 6 * kTeraflop);
    QCOMPARE(carol.earned, 6 * kCredit);
    QCOMPARE(carol.perDay.size(), 3);
    QCOMPARE(carol.perDay[0].day, today.date().addDays(-2));
    QCOMPARE(carol.perDay[0].amount, 1 * kCredit);
    QCOMPARE(carol.perDay[1].amount, 0);
    QCOMPARE(carol.perDay[2].day, today.date());
    QCOMPARE(carol.perDay[2].amount, 3 * kCredit);  // the credit from 5 days ago is outside the window
    QCOMPARE(carol.perDay[0].workUnits, 1);
    QCOMPARE(carol.perDay[1].workUnits, 0);
    QCOMPARE(carol.perDay[2].workUnits, 1);

    const ContributorStats dave = w.ledger->contributorStats(w.dave, 1, today);
    QCOMPARE(dave.workUnitsAccepted, 1);
    QCOMPARE(dave.resultsRejected, 0);
    QCOMPARE(dave.perDay.size(), 1);
    QCOMPARE(dave.perDay[0].amount, 4 * kCredit);
    QCOMPARE(dave.perDay[0].workUnits, 1);
    QVERIFY_THROWS_EXCEPTION(raven::Error, w.ledger->contributorStats(w.dave, 0, today));

    const JobSpend spend = w.ledger->jobSpend(w.job);
    QCOMPARE(spend.paid, 10 * kCredit);
    QCOMPARE(spend.escrow, 90 * kCredit);
    QCOMPARE(spend.workUnitsPaid, 4);
    QCOMPARE(spend.flopsPaid, 10 * kTeraflop);
    w.expectSound();
}

void LedgerTest::schemaRefusesNegativeBalancesAndRewrites() {
    World w;
    const QList<WorkUnitId> u = w.units(1);
    w.fund(2 * kCredit, kCredit);
    w.ledger->creditWorkUnit(u[0], w.carol, kTeraflop, kT0);
    SqlConnection& sql = w.store->connection();
    // Each of these bypasses the Ledger; the schema alone must refuse it.
    const QStringList forbidden{
        "UPDATE accounts SET balance = -1 WHERE kind = 'requester'",
        "UPDATE postings SET amount = amount * 2",
        "DELETE FROM postings",
        "UPDATE entries SET created_at = 0",
        "DELETE FROM entries",
        "DELETE FROM accounts WHERE kind = 'contributor'",
        "UPDATE work_units SET state = 'pending', accepted_at = NULL, accepted_from = NULL",
        "INSERT INTO postings (entry, account, amount) VALUES (1, 1, 0)",
        "UPDATE jobs SET state = 'queued'",  // after endJob below
    };
    w.ledger->endJob(w.job, JobState::Done, kT0);
    for (const QString& statement : forbidden) {
        bool threw = false;
        try {
            sql.exec(statement);
        } catch (const raven::Error&) {
            threw = true;
        }
        QVERIFY2(threw, qPrintable("the schema accepted: " + statement));
    }
    w.expectSound();
}

void LedgerTest::auditCatchesTampering() {
    World w;
    const QList<WorkUnitId> u = w.units(2);
    w.fund(5 * kCredit, 5 * kCredit);
    w.ledger->creditWorkUnit(u[0], w.carol, kTeraflop, kT0);
    QVERIFY(w.ledger->audit().ok());
    // Money out of thin air: a balance that no posting explains.
    w.store->connection().exec("UPDATE accounts SET balance = balance + 7 WHERE kind = 'contributor'");
    // A work unit marked done without being paid.
    w.store->connection().exec("UPDATE work_units SET state = 'done', accepted_at = 1, accepted_from = ? WHERE id = ?",
                               {w.dave, u[1]});
    const AuditReport report = w.ledger->audit();
    QVERIFY(!report.ok());
    const QString text = report.problems.join('\n');
    QVERIFY2(text.contains("postings sum to"), qPrintable(text));
    QVERIFY2(text.contains("sum to 7, not 0"), qPrintable(text));
    QVERIFY2(text.contains(QString("work unit %1 is done with 0 payment entries").arg(u[1])), qPrintable(text));
}

QTEST_GUILESS_MAIN(LedgerTest)
// `raven-coordinator audit` runs beside a live server on the same file (the crash drill audits right
// after each restart). Its sums come from several queries: read at different moments they disagree
// by the payment committed in between ("credits sum to 8955 but jobs paid 9000"), a sound ledger
// called broken. Here a second connection, on a thread of its own as a server's would be, pays unit
// after unit while this one audits again and again.
void LedgerTest::auditBesideAPayingCoordinatorReadsOneMoment() {
    const CreditWindow window{600, 3};  // pending credits, confirmed later: both sums move
    World w(window);
    const QList<WorkUnitId> u = w.units(1000);
    w.fund(2000 * kCredit, 2000 * kCredit);
    std::atomic<bool> paying = true;
    QString payerError;
    std::thread payer([&] {
        try {
            CoordinatorStore store(w.path);
            Ledger ledger(store, CreditRate{kCredit}, window);
            for (int i = 0; i < u.size(); ++i) {
                ledger.creditWorkUnit(u[i], i % 2 ? w.dave : w.carol, kTeraflop, kT0);
                if (i % 3 == 0) ledger.confirmCredit(u[i], kT0);
            }
        } catch (const std::exception& e) {
            payerError = QString::fromUtf8(e.what());
        }
        paying = false;
    });
    int audits = 0;
    QStringList problems;
    while (paying && problems.isEmpty()) {
        problems = w.ledger->audit().problems;
        ++audits;
    }
    payer.join();
    QVERIFY2(payerError.isEmpty(), qPrintable(payerError));
    QVERIFY2(problems.isEmpty(), qPrintable(QStringLiteral("audit %1: %2").arg(audits).arg(problems.join("; "))));
    QVERIFY2(audits >= 5, qPrintable(QStringLiteral("only %1 audits ran beside the payments").arg(audits)));
    w.expectSound();
    QCOMPARE(w.ledger->jobSpend(w.job).paid, 1000 * kCredit);
}

#include "tst_Ledger.moc"
