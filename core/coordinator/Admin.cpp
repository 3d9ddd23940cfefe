#include "coordinator/Admin.h"

#include <optional>

#include <QDateTime>
#include <QDir>

#include "base/Error.h"
#include "coordinator/JobConfig.h"
#include "coordinator/JobFiles.h"
#include "data/Manifest.h"
#include "ledger/ReadSnapshot.h"
#include "ledger/Secrets.h"
#include "ledger/Transaction.h"
#include "training/StepPlan.h"

namespace raven::coordinator::admin {

namespace {

QString credits(ledger::MicroCredits micro) {
    return QString::number(static_cast<double>(micro) / static_cast<double>(ledger::kMicroCreditsPerCredit), 'f', 6);
}

}  // namespace

QString addContributor(ledger::CoordinatorStore& store, const QString& name) {
    RAVEN_CHECK(!name.trimmed().isEmpty(), "a contributor needs a name", "e.g. add-contributor gpu-box");
    const QByteArray token = ledger::newSecret();
    store.addContributor(name.trimmed(), token, {}, 0.0, QDateTime::currentDateTimeUtc());
    return QString::fromLatin1(token);
}

QString addRequester(ledger::CoordinatorStore& store, ledger::Ledger& ledger, const QString& name,
                     ledger::MicroCredits deposit) {
    RAVEN_CHECK(!name.trimmed().isEmpty(), "a requester needs a name", "e.g. add-requester ana --deposit 100");
    RAVEN_CHECK(deposit >= 0, "a deposit cannot be negative", "give 0 or more credits");
    const QByteArray key = ledger::newSecret();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    ledger::Transaction tx(store.connection());
    const ledger::RequesterId id = store.addRequester(name.trimmed(), key, now);
    if (deposit > 0) ledger.deposit(id, deposit, now);
    tx.commit();
    return QString::fromLatin1(key);
}

QString statusReport(const QString& dataDir, const ledger::CoordinatorStore& store, const ledger::Ledger& ledger) {
    const ledger::ReadSnapshot snapshot(store.connection());  // every row's figures from one moment
    const QList<ledger::Job> jobs = store.jobs();
    if (jobs.isEmpty()) return QStringLiteral("no jobs\n");
    QString out = QStringLiteral("%1  %2  %3  %4  %5  %6  %7\n")
                      .arg("job", 5)
                      .arg("state", -13)
                      .arg("step", 13)
                      .arg("budget", 14)
                      .arg("spent", 14)
                      .arg("escrow", 14)
                      .arg("name");
    for (const ledger::Job& job : jobs) {
        QString total = QStringLiteral("?");
        try {
            const QString manifestPath = QDir(dataDir).filePath("datasets/" + job.dataset + ".json");
            total = QString::number(
                training::StepPlan(data::Manifest::load(manifestPath), JobConfig::fromJson(job.hyperparameters).plan)
                    .totalSteps());
        } catch (const raven::Error&) {
        }
        QString state = ledger::nameOf(job.state);
        if (job.state == ledger::JobState::Cancelled && !JobFiles(dataDir, job.id).failure().isEmpty())
            state = QStringLiteral("failed");
        const ledger::JobSpend spend = ledger.jobSpend(job.id);
        out += QStringLiteral("%1  %2  %3  %4  %5  %6  %7\n")
                   .arg(job.id, 5)
                   .arg(state, -13)
                   .arg(QStringLiteral("%1/%2").arg(job.modelVersion).arg(total), 13)
                   .arg(credits(job.budget), 14)
                   .arg(credits(spend.paid), 14)
                   .arg(credits(spend.escrow), 14)
                   .arg(job.name);
    }
    return out;
}

AuditOutcome auditReport(const QString& dataDir, const ledger::CoordinatorStore& store, const ledger::Ledger& ledger) {
    // The books and the steps' units from one moment, though the server beside it goes on.
    const ledger::ReadSnapshot snapshot(store.connection());
    AuditOutcome out;
    const ledger::AuditReport books = ledger.audit();
    out.report += QStringLiteral("ledger: %1 entries, %2 postings, %3 accounts: %4\n")
                      .arg(books.entries)
                      .arg(books.postings)
                      .arg(books.accounts)
                      .arg(books.ok() ? QStringLiteral("balanced") : QStringLiteral("PROBLEMS"));
    for (const QString& problem : books.problems) out.report += "  " + problem + "\n";
    out.ok = books.ok();
    for (const ledger::Job& job : store.jobs()) {
        const QString manifestPath = QDir(dataDir).filePath("datasets/" + job.dataset + ".json");
        std::optional<training::StepPlan> plan;
        try {
            plan.emplace(data::Manifest::load(manifestPath), JobConfig::fromJson(job.hyperparameters).plan);
        } catch (const raven::Error& e) {
            out.report += QStringLiteral("job %1: cannot rebuild its plan: %2\n").arg(job.id).arg(e.what());
            out.ok = false;
            continue;
        }
        QStringList problems;
        qint64 units = 0;
        for (qint64 step = 0; step < job.modelVersion; ++step) {
            QStringList counted;
            for (const ledger::WorkUnit& unit : store.workUnits(job.id, step, ledger::WorkUnitState::Done)) {
                counted += unit.shardHashes;
                ++units;
            }
            QStringList planned;
            for (const data::ShardRef& shard : plan->shardsOfStep(step)) planned << shard.hash;
            counted.sort();
            planned.sort();
            if (counted != planned)
                problems << QStringLiteral("step %1 summed %2 shard(s) where its plan has %3")
                                .arg(step)
                                .arg(counted.size())
                                .arg(planned.size());
        }
        out.report += QStringLiteral("job %1 (%2, %3): %4 step(s) applied from %5 work unit(s); %6\n")
                          .arg(job.id)
                          .arg(job.name, ledger::nameOf(job.state))
                          .arg(job.modelVersion)
                          .arg(units)
                          .arg(problems.isEmpty() ? QStringLiteral("every shard of every step counted exactly once")
                                                  : QStringLiteral("%1 step(s) WRONG").arg(problems.size()));
        for (const QString& problem : problems.mid(0, 20)) out.report += "  " + problem + "\n";
        out.ok = out.ok && problems.isEmpty();
    }
    return out;
}

}  // namespace raven::coordinator::admin
