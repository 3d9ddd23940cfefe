#pragma once
// A small world for the ledger tests: one store file in a fresh QTemporaryDir (on disk, WAL), a
// requester with a job, two contributors, and a fixed clock.
#include "base/Error.h"
#include "ledger/CoordinatorStore.h"
#include "ledger/LeaseBook.h"
#include "ledger/Ledger.h"
#include "ledger/Secrets.h"

#include <QTemporaryDir>
#include <QTest>

#include <memory>

namespace raven::ledger {
// QCOMPARE prints these by name (found by argument-dependent lookup).
inline char* toString(JobState state) { return qstrdup(qPrintable(nameOf(state))); }
inline char* toString(WorkUnitState state) { return qstrdup(qPrintable(nameOf(state))); }
inline char* toString(CreditOutcome o) { return qstrdup(qPrintable(QString("CreditOutcome(%1)").arg(int(o)))); }
inline char* toString(CreditState state) { return qstrdup(qPrintable(nameOf(state))); }
inline char* toString(LeaseOutcome o) { return qstrdup(qPrintable(QString("LeaseOutcome(%1)").arg(int(o)))); }
inline char* toString(AcceptOutcome o) { return qstrdup(qPrintable(QString("AcceptOutcome(%1)").arg(int(o)))); }
}  // namespace raven::ledger

namespace raven::ledger::test {

inline const QDateTime kT0(QDate(2024, 5, 1), QTime(12, 0), Qt::UTC);
inline constexpr MicroCredits kCredit = kMicroCreditsPerCredit;
inline constexpr qint64 kTeraflop = 1'000'000'000'000;

inline QJsonObject mlpSpec() {
    return QJsonObject{{"input", QJsonArray{784}},
                       {"layers", QJsonArray{QJsonObject{{"type", "linear"}, {"out", 10}}}},
                       {"loss", "cross_entropy"}};
}

struct World {
    QTemporaryDir dir;
    QString path;
    std::unique_ptr<CoordinatorStore> store;
    std::unique_ptr<Ledger> ledger;
    std::unique_ptr<LeaseBook> leases;
    RequesterId alice = 0;
    JobId job = 0;
    ContributorId carol = 0;
    ContributorId dave = 0;
    CreditWindow window;

    // Rate: 1 credit per TFLOP, so a unit of n TFLOPs costs n credits. `window`: none (credits are
    // confirmed as they are paid) unless a test is about the credit states.
    explicit World(CreditWindow creditWindow = CreditWindow::none()) : window(creditWindow) {
        RAVEN_ASSERT(dir.isValid(), "temporary directory");
        path = dir.filePath("coordinator.sqlite");
        open();
        alice = store->addRequester("alice", newSecret(), kT0);
        job = store->addJob({alice, "mlp", mlpSpec(), QJsonObject{{"lr", 0.01}}, QString(64, QLatin1Char('a'))}, kT0);
        carol = store->addContributor("carol", newSecret(), QJsonArray{"lavapipe"}, 12.5, kT0);
        dave = store->addContributor("dave", newSecret(), QJsonArray{}, 3.0, kT0);
    }

    void open() {
        leases.reset();
        ledger.reset();
        store.reset();
        store = std::make_unique<CoordinatorStore>(path);
        ledger = std::make_unique<Ledger>(*store, CreditRate{kCredit}, window);
        leases = std::make_unique<LeaseBook>(*store, *ledger);
    }

    // `count` units of `teraflops` each at model version 0.
    QList<WorkUnitId> units(int count, double teraflops = 1.0) {
        QList<NewWorkUnit> list;
        for (int i = 0; i < count; ++i)
            list << NewWorkUnit{{QString(64, QLatin1Char('0' + i % 10))}, static_cast<qint64>(teraflops * kTeraflop)};
        return store->addWorkUnits(job, 0, list);
    }

    void fund(MicroCredits deposit, MicroCredits escrow) {
        ledger->deposit(alice, deposit, kT0);
        ledger->fundJob(job, escrow, kT0);
    }

    // Every non-mint account is non-negative and the audit finds nothing.
    void expectSound() const {
        const AuditReport report = ledger->audit();
        if (!report.ok()) qWarning("%s", qPrintable(report.problems.join('\n')));
        QVERIFY(report.ok());
        const qint64 negative = store->connection()
                                    .scalar("SELECT COUNT(*) FROM accounts WHERE kind <> 'mint' AND balance < 0")
                                    .toLongLong();
        QCOMPARE(negative, 0);
    }
};

}  // namespace raven::ledger::test
