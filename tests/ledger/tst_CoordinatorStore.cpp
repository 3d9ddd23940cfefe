// The store itself: schema creation and version checks, connection settings, hashed secrets,
// job and work-unit rows, transactions that roll back, and two stores sharing one WAL file.
#include "LedgerFixture.h"

#include "base/Error.h"
#include "ledger/Schema.h"
#include "ledger/Transaction.h"

#include <QFile>
#include <QSqlDatabase>
#include <QSqlQuery>

#include <stdexcept>

using namespace raven::ledger;
using namespace raven::ledger::test;

namespace {

// A plain Qt Sql connection beside the store, for tampering with the file as another program would.
void rawExec(const QString& path, const QString& statement) {
    {
        QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "raw");
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY2(q.exec(statement), qPrintable(statement));
        db.close();
    }
    QSqlDatabase::removeDatabase("raw");
}

QString errorOpening(const QString& path) {
    try {
        CoordinatorStore store(path);
    } catch (const raven::Error& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

}  // namespace

class CoordinatorStoreTest : public QObject {
    Q_OBJECT
private slots:
    void createsTheLatestSchemaFromVersionZero();
    void refusesANewerSchema();
    void refusesAForeignDatabase();
    void refusesAnUnwritablePath();
    void connectionUsesWalFullSyncAndForeignKeys();
    void storesOnlyHashesOfSecrets();
    void jobsRoundTrip();
    void workUnitsRoundTrip();
    void aStepsUnitsAreFoundWithoutScanningTheJob();
    void transactionRollsBackOnException();
    void nestedTransactionRollsBackOnlyItsPart();
    void twoStoresOnOneFileSeeEachOther();
};

void CoordinatorStoreTest::createsTheLatestSchemaFromVersionZero() {
    QTemporaryDir dir;
    const QString path = dir.filePath("new.sqlite");
    {
        CoordinatorStore store(path);
        QCOMPARE(store.schemaVersion(), latestSchemaVersion());
        QCOMPARE(store.connection().scalar("SELECT COUNT(*) FROM schema_version").toInt(), schemaMigrations().size());
        for (const char* table : {"contributors", "requesters", "jobs", "work_units", "leases", "rejections",
                                  "accounts", "entries", "postings"})
            QVERIFY2(store.connection()
                             .scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", {table})
                             .toInt() == 1,
                     table);
        QCOMPARE(store.connection().scalar("SELECT COUNT(*) FROM accounts WHERE kind = 'mint'").toInt(), 1);
    }
    // Reopening migrates nothing more.
    CoordinatorStore again(path);
    QCOMPARE(again.schemaVersion(), latestSchemaVersion());
    QCOMPARE(again.connection().scalar("SELECT COUNT(*) FROM schema_version").toInt(), schemaMigrations().size());
}

void CoordinatorStoreTest::refusesANewerSchema() {
    QTemporaryDir dir;
    const QString path = dir.filePath("future.sqlite");
    { CoordinatorStore store(path); }
    const int future = latestSchemaVersion() + 3;
    rawExec(
        path,
        QString("INSERT INTO schema_version (version, description, applied_at) VALUES (%1, 'future', 0)").arg(future));
    const QString error = errorOpening(path);
    QVERIFY2(error.contains(QString("has schema version %1, newer than this build knows (up to %2)")
                                .arg(future)
                                .arg(latestSchemaVersion())),
             qPrintable(error));
    QVERIFY2(error.contains("hint: upgrade Raven"), qPrintable(error));
    QVERIFY2(error.contains(path), qPrintable(error));
}

void CoordinatorStoreTest::refusesAForeignDatabase() {
    QTemporaryDir dir;
    const QString path = dir.filePath("other.sqlite");
    rawExec(path, "CREATE TABLE photos (id INTEGER PRIMARY KEY)");
    const QString error = errorOpening(path);
    QVERIFY2(error.contains("not a Raven coordinator database"), qPrintable(error));
}

void CoordinatorStoreTest::refusesAnUnwritablePath() {
    QTemporaryDir dir;
    const QString error = errorOpening(dir.filePath("missing/dir/x.sqlite"));
    QVERIFY2(error.contains("cannot open the coordinator database"), qPrintable(error));
}

void CoordinatorStoreTest::connectionUsesWalFullSyncAndForeignKeys() {
    World w;
    SqlConnection& sql = w.store->connection();
    QCOMPARE(sql.scalar("PRAGMA journal_mode").toString(), QString("wal"));
    QCOMPARE(sql.scalar("PRAGMA synchronous").toInt(), 2);  // FULL
    QCOMPARE(sql.scalar("PRAGMA foreign_keys").toInt(), 1);
    QVERIFY_THROWS_EXCEPTION(raven::Error, sql.exec("INSERT INTO work_units (job, model_version, shard_hashes, flops, "
                                                    "state) VALUES (9999, 0, '[]', 1, 'pending')"));
}

void CoordinatorStoreTest::storesOnlyHashesOfSecrets() {
    QTemporaryDir dir;
    const QString path = dir.filePath("secrets.sqlite");
    const QByteArray token = newSecret();
    const QByteArray apiKey = newSecret();
    QCOMPARE(token.size(), 43);
    QVERIFY(token != newSecret());
    {
        CoordinatorStore store(path);
        const ContributorId c =
            store.addContributor("carol", token, QJsonArray{QJsonObject{{"name", "RTX"}}}, 42.0, kT0);
        const RequesterId r = store.addRequester("alice", apiKey, kT0);
        QCOMPARE(store.contributorByToken(token), std::optional<ContributorId>(c));
        QCOMPARE(store.contributorByToken(newSecret()), std::nullopt);
        QCOMPARE(store.requesterByApiKey(apiKey), std::optional<RequesterId>(r));
        QCOMPARE(store.requesterByApiKey(token), std::nullopt);
        QCOMPARE(store.contributor(c)->tokenHash, hashSecret(token));
        QCOMPARE(store.contributor(c)->measuredGflops, 42.0);
        QCOMPARE(store.contributor(c)->devices[0].toObject()["name"].toString(), QString("RTX"));
        QCOMPARE(store.contributor(c)->registeredAt, kT0);
        store.updateContributorDevices(c, QJsonArray{"a", "b"}, 50.0);
        QCOMPARE(store.contributor(c)->devices.size(), 2);
        QVERIFY_THROWS_EXCEPTION(raven::Error, store.addContributor("again", token, {}, 1.0, kT0));
        QVERIFY_THROWS_EXCEPTION(raven::Error, store.updateContributorDevices(c + 7, {}, 1.0));
    }
    // Neither the database nor its WAL holds a secret in the clear.
    for (const QString& file : {path, path + "-wal"}) {
        QFile f(file);
        if (!f.exists()) continue;
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QVERIFY(!bytes.contains(token));
        QVERIFY(!bytes.contains(apiKey));
    }
}

void CoordinatorStoreTest::jobsRoundTrip() {
    World w;
    const Job job = *w.store->job(w.job);
    QCOMPARE(job.requester, w.alice);
    QCOMPARE(job.name, QString("mlp"));
    QCOMPARE(job.spec, mlpSpec());
    QCOMPARE(job.hyperparameters["lr"].toDouble(), 0.01);
    QCOMPARE(job.state, JobState::Queued);
    QCOMPARE(job.budget, 0);
    QCOMPARE(job.createdAt, kT0);
    w.store->setJobState(w.job, JobState::Running, kT0.addSecs(1));
    w.store->setJobModelVersion(w.job, 7, kT0.addSecs(2));
    QCOMPARE(w.store->job(w.job)->state, JobState::Running);
    QCOMPARE(w.store->job(w.job)->modelVersion, 7);
    QCOMPARE(w.store->job(w.job)->updatedAt, kT0.addSecs(2));
    const JobId second = w.store->addJob({w.alice, "cnn", mlpSpec(), {}, "d"}, kT0);
    QCOMPARE(w.store->jobs().size(), 2);
    QCOMPARE(w.store->jobs(JobState::Queued).size(), 1);
    QCOMPARE(w.store->jobs(JobState::Queued)[0].id, second);
    QVERIFY(!w.store->job(999).has_value());
    QVERIFY_THROWS_EXCEPTION(raven::Error, w.store->addJob({w.alice + 50, "x", {}, {}, "d"}, kT0));
    QVERIFY_THROWS_EXCEPTION(raven::Error, w.store->setJobState(999, JobState::Paused, kT0));
    for (JobState s : {JobState::Queued, JobState::Running, JobState::Paused, JobState::Done, JobState::Cancelled,
                       JobState::OutOfBudget})
        QCOMPARE(jobStateFromString(nameOf(s)), s);
    QVERIFY_THROWS_EXCEPTION(raven::Error, jobStateFromString("finished"));
}

void CoordinatorStoreTest::workUnitsRoundTrip() {
    World w;
    const QString a(64, QLatin1Char('a'));
    const QString b(64, QLatin1Char('b'));
    const QList<WorkUnitId> ids = w.store->addWorkUnits(w.job, 3, {{{a, b}, 1000}, {{b}, 2000}});
    QCOMPARE(ids.size(), 2);
    const WorkUnit unit = *w.store->workUnit(ids[0]);
    QCOMPARE(unit.job, w.job);
    QCOMPARE(unit.modelVersion, 3);
    QCOMPARE(unit.shardHashes, (QStringList{a, b}));
    QCOMPARE(unit.flops, 1000);
    QCOMPARE(unit.state, WorkUnitState::Pending);
    QVERIFY(!unit.leaseHolder.has_value());
    QVERIFY(!unit.acceptedAt.isValid());
    QCOMPARE(w.store->workUnits(w.job).size(), 2);
    QCOMPARE(w.store->workUnits(w.job, 3).size(), 2);
    QCOMPARE(w.store->workUnits(w.job, 4).size(), 0);
    QCOMPARE(w.store->workUnits(w.job, std::nullopt, WorkUnitState::Pending).size(), 2);
    // One bad unit refuses the whole batch.
    QVERIFY_THROWS_EXCEPTION(raven::Error, w.store->addWorkUnits(w.job, 4, {{{a}, 10}, {{a}, 0}}));
    QCOMPARE(w.store->workUnits(w.job).size(), 2);
    QVERIFY_THROWS_EXCEPTION(raven::Error, w.store->addWorkUnits(w.job + 9, 0, {{{a}, 10}}));
}

void CoordinatorStoreTest::aStepsUnitsAreFoundWithoutScanningTheJob() {
    // Each step reads its own units: by (job, model_version) in an index, not by reading every unit
    // the job ever had, which made a step's cost grow with the job's age.
    QTemporaryDir dir;
    CoordinatorStore store(dir.filePath("plan.sqlite"));
    const std::vector<std::pair<QString, QVariantList>> reads{
        {QStringLiteral("job = ? AND model_version = ?"), {1, 2}},
        {QStringLiteral("job = ? AND model_version = ? AND state = ?"), {1, 2, QStringLiteral("done")}}};
    for (const auto& [where, bindings] : reads) {
        SqlRows plan = store.connection().query(
            "EXPLAIN QUERY PLAN SELECT id FROM work_units WHERE " + where + " ORDER BY id", bindings);
        QString details;
        while (plan.next()) details += plan.value(3).toString() + '\n';
        QVERIFY2(details.contains("work_units_job_version (job=? AND model_version=?)"), qPrintable(details));
    }
}

void CoordinatorStoreTest::transactionRollsBackOnException() {
    World w;
    SqlConnection& sql = w.store->connection();
    try {
        Transaction tx(sql);
        sql.exec("INSERT INTO requesters (name, api_key_hash, registered_at) VALUES ('bob', 'h', 0)");
        QCOMPARE(sql.scalar("SELECT COUNT(*) FROM requesters").toInt(), 2);
        throw std::runtime_error("boom");
    } catch (const std::runtime_error&) {
    }
    QCOMPARE(sql.transactionDepth(), 0);
    QCOMPARE(sql.scalar("SELECT COUNT(*) FROM requesters").toInt(), 1);
    // A failing store operation leaves no trace either.
    QVERIFY_THROWS_EXCEPTION(raven::Error, w.store->addRequester("x", QByteArray(), kT0));
    QCOMPARE(sql.scalar("SELECT COUNT(*) FROM requesters").toInt(), 1);
}

void CoordinatorStoreTest::nestedTransactionRollsBackOnlyItsPart() {
    World w;
    SqlConnection& sql = w.store->connection();
    {
        Transaction outer(sql);
        sql.exec("INSERT INTO requesters (name, api_key_hash, registered_at) VALUES ('kept', 'k', 0)");
        {
            Transaction inner(sql);
            QCOMPARE(sql.transactionDepth(), 2);
            sql.exec("INSERT INTO requesters (name, api_key_hash, registered_at) VALUES ('dropped', 'd', 0)");
        }
        QCOMPARE(sql.transactionDepth(), 1);
        outer.commit();
    }
    QCOMPARE(sql.scalar("SELECT COUNT(*) FROM requesters WHERE name = 'kept'").toInt(), 1);
    QCOMPARE(sql.scalar("SELECT COUNT(*) FROM requesters WHERE name = 'dropped'").toInt(), 0);
}

void CoordinatorStoreTest::twoStoresOnOneFileSeeEachOther() {
    World a;
    CoordinatorStore b(a.path);
    Ledger ledgerB(b, CreditRate{kCredit});
    QVERIFY(a.store->connection().connectionName() != b.connection().connectionName());

    // A registers, B sees it; B deposits, A sees the balance.
    const QByteArray token = newSecret();
    const ContributorId erin = a.store->addContributor("erin", token, {}, 1.0, kT0);
    QCOMPARE(b.contributorByToken(token), std::optional<ContributorId>(erin));
    ledgerB.deposit(a.alice, 5 * kCredit, kT0);
    QCOMPARE(a.ledger->balance(Account::requester(a.alice)), 5 * kCredit);
    a.ledger->fundJob(a.job, 3 * kCredit, kT0);
    const QList<WorkUnitId> u = b.addWorkUnits(a.job, 0, {{{"s"}, kTeraflop}});
    QCOMPARE(a.store->workUnit(u[0])->state, WorkUnitState::Pending);

    // Both try to pay the same unit: exactly one pays.
    QCOMPARE(a.ledger->creditWorkUnit(u[0], erin, kTeraflop, kT0).outcome, CreditOutcome::Paid);
    QCOMPARE(ledgerB.creditWorkUnit(u[0], a.carol, kTeraflop, kT0).outcome, CreditOutcome::AlreadyPaid);
    QCOMPARE(ledgerB.balance(Account::contributor(erin)), kCredit);
    QCOMPARE(b.workUnit(u[0])->acceptedFrom, std::optional<ContributorId>(erin));
    QVERIFY(ledgerB.audit().ok());
    a.expectSound();
}

QTEST_GUILESS_MAIN(CoordinatorStoreTest)
#include "tst_CoordinatorStore.moc"
