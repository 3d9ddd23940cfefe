#include "ledger/Schema.h"

#include "base/Error.h"
#include "ledger/Transaction.h"

#include <QDateTime>

namespace raven::ledger {

namespace {

// Version 1: participants, jobs, work units with their leases, and the double-entry ledger.
// Timestamps are milliseconds since the epoch (UTC); money is integer micro-credits.
QStringList version1() {
    return {
        QStringLiteral(R"(CREATE TABLE contributors (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            registered_at INTEGER NOT NULL,
            devices TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(devices)),
            measured_gflops REAL NOT NULL DEFAULT 0 CHECK (measured_gflops >= 0)))"),
        QStringLiteral(R"(CREATE TABLE requesters (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            api_key_hash TEXT NOT NULL UNIQUE,
            registered_at INTEGER NOT NULL))"),
        QStringLiteral(R"(CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            requester INTEGER NOT NULL REFERENCES requesters(id),
            name TEXT NOT NULL DEFAULT '',
            spec TEXT NOT NULL CHECK (json_valid(spec)),
            hyperparameters TEXT NOT NULL CHECK (json_valid(hyperparameters)),
            dataset TEXT NOT NULL,
            budget INTEGER NOT NULL DEFAULT 0 CHECK (budget >= 0),
            state TEXT NOT NULL CHECK (state IN
                ('queued', 'running', 'paused', 'done', 'cancelled', 'out_of_budget')),
            model_version INTEGER NOT NULL DEFAULT 0 CHECK (model_version >= 0),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL))"),
        QStringLiteral("CREATE INDEX jobs_requester ON jobs(requester)"),
        QStringLiteral(R"(CREATE TRIGGER jobs_terminal BEFORE UPDATE OF state ON jobs
            WHEN OLD.state IN ('done', 'cancelled') AND NEW.state <> OLD.state
            BEGIN SELECT RAISE(ABORT, 'a done or cancelled job never changes state'); END)"),
        QStringLiteral(R"(CREATE TABLE work_units (
            id INTEGER PRIMARY KEY,
            job INTEGER NOT NULL REFERENCES jobs(id),
            model_version INTEGER NOT NULL CHECK (model_version >= 0),
            shard_hashes TEXT NOT NULL CHECK (json_valid(shard_hashes)),
            flops INTEGER NOT NULL CHECK (flops > 0),
            state TEXT NOT NULL CHECK (state IN ('pending', 'leased', 'done', 'expired')),
            lease_holder INTEGER REFERENCES contributors(id),
            lease_deadline INTEGER,
            accepted_at INTEGER,
            accepted_from INTEGER REFERENCES contributors(id),
            CHECK ((state = 'done') = (accepted_at IS NOT NULL AND accepted_from IS NOT NULL))))"),
        QStringLiteral("CREATE INDEX work_units_job_state ON work_units(job, state)"),
        QStringLiteral("CREATE INDEX work_units_accepted_from ON work_units(accepted_from)"),
        QStringLiteral(R"(CREATE TRIGGER work_units_done_is_final BEFORE UPDATE ON work_units
            WHEN OLD.state = 'done' AND (NEW.state <> 'done' OR NEW.accepted_from IS NOT OLD.accepted_from
                                         OR NEW.accepted_at IS NOT OLD.accepted_at)
            BEGIN SELECT RAISE(ABORT, 'a done work unit never changes'); END)"),
        // One row per grant. Several may be active at once for one unit (speculative duplicates of a
        // straggler), but never two for the same contributor.
        QStringLiteral(R"(CREATE TABLE leases (
            id INTEGER PRIMARY KEY,
            work_unit INTEGER NOT NULL REFERENCES work_units(id),
            contributor INTEGER NOT NULL REFERENCES contributors(id),
            granted_at INTEGER NOT NULL,
            deadline INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN
                ('active', 'expired', 'handed_back', 'completed', 'superseded', 'rejected')),
            ended_at INTEGER))"),
        QStringLiteral(
            "CREATE UNIQUE INDEX leases_one_active ON leases(work_unit, contributor) WHERE state = 'active'"),
        QStringLiteral("CREATE INDEX leases_work_unit ON leases(work_unit)"),
        QStringLiteral("CREATE INDEX leases_active_deadline ON leases(deadline) WHERE state = 'active'"),
        QStringLiteral(R"(CREATE TABLE rejections (
            id INTEGER PRIMARY KEY,
            work_unit INTEGER NOT NULL REFERENCES work_units(id),
            contributor INTEGER NOT NULL REFERENCES contributors(id),
            rejected_at INTEGER NOT NULL,
            reason TEXT NOT NULL))"),
        QStringLiteral("CREATE INDEX rejections_contributor ON rejections(contributor)"),
        // The ledger. balance is a cache of SUM(postings.amount), updated in the transaction that
        // inserts the postings; audit() proves the two agree. Only the mint may go negative.
        QStringLiteral(R"(CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('mint', 'requester', 'job', 'contributor')),
            owner INTEGER NOT NULL,
            balance INTEGER NOT NULL DEFAULT 0,
            UNIQUE (kind, owner),
            CHECK (kind = 'mint' OR balance >= 0)))"),
        QStringLiteral("INSERT INTO accounts (kind, owner, balance) VALUES ('mint', 0, 0)"),
        QStringLiteral(R"(CREATE TRIGGER accounts_keep BEFORE DELETE ON accounts
            BEGIN SELECT RAISE(ABORT, 'ledger accounts are never deleted'); END)"),
        // work_unit is UNIQUE: the database itself refuses a second payment for one work unit.
        QStringLiteral(R"(CREATE TABLE entries (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('deposit', 'fund_job', 'work_unit_credit', 'refund')),
            created_at INTEGER NOT NULL,
            job INTEGER REFERENCES jobs(id),
            work_unit INTEGER UNIQUE REFERENCES work_units(id),
            flops INTEGER CHECK (flops IS NULL OR flops > 0),
            memo TEXT NOT NULL DEFAULT '',
            CHECK ((kind = 'work_unit_credit') = (work_unit IS NOT NULL)),
            CHECK ((kind = 'work_unit_credit') = (flops IS NOT NULL))))"),
        QStringLiteral("CREATE INDEX entries_job ON entries(job)"),
        QStringLiteral(R"(CREATE TABLE postings (
            id INTEGER PRIMARY KEY,
            entry INTEGER NOT NULL REFERENCES entries(id),
            account INTEGER NOT NULL REFERENCES accounts(id),
            amount INTEGER NOT NULL CHECK (amount <> 0)))"),
        QStringLiteral("CREATE INDEX postings_entry ON postings(entry)"),
        QStringLiteral("CREATE INDEX postings_account ON postings(account)"),
        QStringLiteral(R"(CREATE TRIGGER entries_append_only_update BEFORE UPDATE ON entries
            BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END)"),
        QStringLiteral(R"(CREATE TRIGGER entries_append_only_delete BEFORE DELETE ON entries
            BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END)"),
        QStringLiteral(R"(CREATE TRIGGER postings_append_only_update BEFORE UPDATE ON postings
            BEGIN SELECT RAISE(ABORT, 'ledger postings are append-only'); END)"),
        QStringLiteral(R"(CREATE TRIGGER postings_append_only_delete BEFORE DELETE ON postings
            BEGIN SELECT RAISE(ABORT, 'ledger postings are append-only'); END)"),
    };
}

// What the verification of results has learnt about each contributor (TrustBook.h): its verified
// units (its rate of replay) and its quarantine, which is for good.
QStringList version2() {
    return {
        QStringLiteral(R"(CREATE TABLE contributor_trust (
            contributor INTEGER PRIMARY KEY REFERENCES contributors(id),
            verified INTEGER NOT NULL DEFAULT 0 CHECK (verified >= 0),
            quarantined_at INTEGER,
            quarantine_reason TEXT,
            CHECK ((quarantined_at IS NULL) = (quarantine_reason IS NULL))))"),
        QStringLiteral(R"(CREATE TRIGGER contributor_trust_quarantine_is_final
            BEFORE UPDATE OF quarantined_at ON contributor_trust
            WHEN OLD.quarantined_at IS NOT NULL AND NEW.quarantined_at IS NOT OLD.quarantined_at
            BEGIN SELECT RAISE(ABORT, 'a quarantine is final'); END)"),
    };
}

// Credits held for verification (docs/ledger.md, "Credit states"). The CHECKs on accounts.kind and
// entries.kind name the kinds a row may have, and SQLite cannot alter a CHECK: both tables are
// rebuilt (new table, rows copied with their ids, old dropped, new renamed), with foreign keys off
// for the migration as SQLite's ALTER TABLE page prescribes (Migration::rebuildsTables), and the
// foreign-key check run before the commit. Every credit paid before v3 was final at once: it
// becomes a confirmed credit without a settling entry.
QStringList version3() {
    return {
        QStringLiteral(R"(CREATE TABLE accounts_v3 (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('mint', 'requester', 'job', 'contributor', 'pending')),
            owner INTEGER NOT NULL,
            balance INTEGER NOT NULL DEFAULT 0,
            UNIQUE (kind, owner),
            CHECK (kind = 'mint' OR balance >= 0)))"),
        QStringLiteral(
            "INSERT INTO accounts_v3 (id, kind, owner, balance) SELECT id, kind, owner, balance FROM accounts"),
        QStringLiteral("DROP TABLE accounts"),
        QStringLiteral("ALTER TABLE accounts_v3 RENAME TO accounts"),
        QStringLiteral(R"(CREATE TRIGGER accounts_keep BEFORE DELETE ON accounts
            BEGIN SELECT RAISE(ABORT, 'ledger accounts are never deleted'); END)"),
        QStringLiteral(R"(CREATE TABLE entries_v3 (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN
                ('deposit', 'fund_job', 'work_unit_credit', 'refund', 'credit_confirm', 'credit_revoke')),
            created_at INTEGER NOT NULL,
            job INTEGER REFERENCES jobs(id),
            work_unit INTEGER UNIQUE REFERENCES work_units(id),
            flops INTEGER CHECK (flops IS NULL OR flops > 0),
            memo TEXT NOT NULL DEFAULT '',
            CHECK ((kind = 'work_unit_credit') = (work_unit IS NOT NULL)),
            CHECK ((kind = 'work_unit_credit') = (flops IS NOT NULL))))"),
        QStringLiteral("INSERT INTO entries_v3 (id, kind, created_at, job, work_unit, flops, memo) "
                       "SELECT id, kind, created_at, job, work_unit, flops, memo FROM entries"),
        QStringLiteral("DROP TABLE entries"),
        QStringLiteral("ALTER TABLE entries_v3 RENAME TO entries"),
        QStringLiteral("CREATE INDEX entries_job ON entries(job)"),
        QStringLiteral(R"(CREATE TRIGGER entries_append_only_update BEFORE UPDATE ON entries
            BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END)"),
        QStringLiteral(R"(CREATE TRIGGER entries_append_only_delete BEFORE DELETE ON entries
            BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END)"),
        // One row per paid work unit: the state of its credit. `entry` is the work_unit_credit entry
        // (job -> the contributor's pending account); `settled_by` the credit_confirm (pending ->
        // the contributor's account) or credit_revoke (pending -> back to the job) entry. The sweep
        // confirms a pending credit once now >= due_at and the job's model_version >= due_version.
        QStringLiteral(R"(CREATE TABLE credits (
            work_unit INTEGER PRIMARY KEY REFERENCES work_units(id),
            entry INTEGER NOT NULL UNIQUE REFERENCES entries(id),
            job INTEGER NOT NULL REFERENCES jobs(id),
            contributor INTEGER NOT NULL REFERENCES contributors(id),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'revoked')),
            due_at INTEGER NOT NULL,
            due_version INTEGER NOT NULL,
            settled_by INTEGER UNIQUE REFERENCES entries(id),
            settled_at INTEGER,
            reason TEXT NOT NULL DEFAULT '',
            CHECK ((state = 'pending') = (settled_at IS NULL)),
            CHECK (state <> 'pending' OR settled_by IS NULL),
            CHECK (state = 'revoked' OR reason = '')))"),
        QStringLiteral("CREATE INDEX credits_pending_due ON credits(due_at) WHERE state = 'pending'"),
        QStringLiteral("CREATE INDEX credits_contributor_state ON credits(contributor, state)"),
        QStringLiteral("CREATE INDEX credits_job ON credits(job)"),
        QStringLiteral(R"(CREATE TRIGGER credits_settled_is_final BEFORE UPDATE ON credits
            WHEN OLD.state <> 'pending'
            BEGIN SELECT RAISE(ABORT, 'a confirmed or revoked credit never changes'); END)"),
        QStringLiteral(R"(CREATE TRIGGER credits_keep BEFORE DELETE ON credits
            BEGIN SELECT RAISE(ABORT, 'credits are never deleted'); END)"),
        // A rejection because a replay of the result differed: no credit for that unit and
        // contributor may ever be confirmed (the audit checks it).
        QStringLiteral("ALTER TABLE rejections ADD COLUMN replay_mismatch INTEGER NOT NULL DEFAULT 0 "
                       "CHECK (replay_mismatch IN (0, 1))"),
        QStringLiteral(R"(INSERT INTO credits (work_unit, entry, job, contributor, amount, state, due_at, due_version,
                                               settled_at)
            SELECT e.work_unit, e.id, e.job, w.accepted_from,
                   COALESCE((SELECT SUM(p.amount) FROM postings p WHERE p.entry = e.id AND p.amount > 0), 0),
                   'confirmed', e.created_at, w.model_version, e.created_at
            FROM entries e JOIN work_units w ON w.id = e.work_unit WHERE e.kind = 'work_unit_credit')"),
    };
}

// Version 4: a step's units found by (job, model_version). Every step reads its own units and makes
// the next one's; with only (job, state) to go by, each read scanned all the job's units so far, and a
// step's cost grew with the job's age (these reads: 14% of the event loop's CPU by step ~400 of an MLP job).
QStringList version4() {
    return {QStringLiteral("CREATE INDEX work_units_job_version ON work_units(job, model_version)")};
}

// PRAGMA foreign_keys is a no-op inside a transaction: a migration that rebuilds tables switches
// them off before its transaction and on again after it, whether it committed or not.
class ForeignKeysOff {
public:
    ForeignKeysOff(SqlConnection& connection, bool off) : connection_(off ? &connection : nullptr) {
        if (connection_) connection_->exec(QStringLiteral("PRAGMA foreign_keys=OFF"));
    }
    ~ForeignKeysOff() {
        if (!connection_) return;
        try {
            connection_->exec(QStringLiteral("PRAGMA foreign_keys=ON"));
        } catch (const std::exception& e) {
            qWarning("ledger: foreign keys stay off on %s: %s", qPrintable(connection_->path()), e.what());
        }
    }
    ForeignKeysOff(const ForeignKeysOff&) = delete;
    ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

private:
    SqlConnection* connection_;
};

bool hasTable(const SqlConnection& connection, const QString& name) {
    return connection
               .scalar(QStringLiteral("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"), {name})
               .toLongLong() > 0;
}

}  // namespace

const QList<Migration>& schemaMigrations() {
    static const QList<Migration> all{
        {1, QStringLiteral("participants, jobs, work units and leases, double-entry ledger"), version1()},
        {2, QStringLiteral("contributor trust and quarantine (verification of results)"), version2()},
        {3, QStringLiteral("credits pending until verified: confirmed or revoked (credits table)"), version3(), true},
        {4, QStringLiteral("a step's work units found by job and model version"), version4()},
    };
    return all;
}

int latestSchemaVersion() { return schemaMigrations().back().version; }

int readSchemaVersion(const SqlConnection& connection) {
    if (!hasTable(connection, QStringLiteral("schema_version"))) return 0;
    return connection.scalar(QStringLiteral("SELECT COALESCE(MAX(version), 0) FROM schema_version")).toInt();
}

void migrateSchema(SqlConnection& connection) {
    for (const Migration& migration : schemaMigrations()) {
        const ForeignKeysOff keysOff(connection,
                                     migration.rebuildsTables && readSchemaVersion(connection) < migration.version);
        // The version is read again inside each write transaction: another process opening the same
        // new file at the same moment has either applied this migration already or waits for us.
        Transaction tx(connection);
        const int current = readSchemaVersion(connection);
        if (current == 0 && !hasTable(connection, QStringLiteral("schema_version"))) {
            const qint64 tables =
                connection.scalar(QStringLiteral("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"))
                    .toLongLong();
            RAVEN_CHECK(tables == 0,
                        connection.path().toStdString() +
                            " holds tables but no schema_version table: it is not a Raven coordinator database",
                        "give the coordinator a new file or the database it created");
            connection.exec(
                QStringLiteral("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                               "applied_at INTEGER NOT NULL)"));
        }
        RAVEN_CHECK(current <= latestSchemaVersion(),
                    "the coordinator database " + connection.path().toStdString() + " has schema version " +
                        std::to_string(current) + ", newer than this build knows (up to " +
                        std::to_string(latestSchemaVersion()) + ")",
                    "upgrade Raven to a release that knows schema version " + std::to_string(current) +
                        "; do not open this database with an older coordinator");
        if (current >= migration.version) continue;
        RAVEN_ASSERT(current == migration.version - 1, "schema migrations must be applied in order without gaps");
        for (const QString& statement : migration.statements) connection.exec(statement);
        if (migration.rebuildsTables) {
            const QVariant broken = connection.scalar(QStringLiteral("SELECT COUNT(*) FROM pragma_foreign_key_check"));
            RAVEN_CHECK(broken.toLongLong() == 0,
                        "migrating " + connection.path().toStdString() + " to schema version " +
                            std::to_string(migration.version) + " left " + broken.toString().toStdString() +
                            " rows pointing to missing rows",
                        "the database was inconsistent before the upgrade: restore a backup and run the audit");
        }
        connection.exec(
            QStringLiteral("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)"),
            {migration.version, migration.description, QDateTime::currentMSecsSinceEpoch()});
        tx.commit();
    }
}

}  // namespace raven::ledger
