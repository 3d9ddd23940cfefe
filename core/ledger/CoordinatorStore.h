#pragma once
// CoordinatorStore: everything the coordinator must not forget, in one SQLite file.
//
//   CoordinatorStore store("/var/lib/raven/coordinator.sqlite");   // creates or migrates the schema
//   RequesterId alice = store.addRequester("alice", apiKey, now);
//   JobId job = store.addJob({alice, "mnist-mlp", spec, hyper, manifestHash}, now);
//   QList<WorkUnitId> units = store.addWorkUnits(job, 0, {{{shardHash}, 45'000'000}});
//   Ledger ledger(store, CreditRate{...});      // money:   Ledger.h
//   LeaseBook leases(store, ledger);             // leasing: LeaseBook.h
//
// The file is in WAL mode with synchronous=FULL (see SqlConnection.h); every method that changes
// something is one transaction, so after a crash (SIGKILL, power cut) the file holds each change
// entirely or not at all. Several stores may open the same file, in one process or several; each
// sees the others' committed changes. A store belongs to the thread that created it.
//
// The schema (tables contributors, requesters, jobs, work_units, leases, rejections, accounts,
// entries, postings) and its migrations are described in docs/ledger.md and Schema.h.
//
// Errors: raven::Error for what a caller can act on (unknown id, a newer schema, an unwritable
// file, a forbidden state change); the message names the file and the row.
#include "ledger/SqlConnection.h"
#include "ledger/StoreTypes.h"

#include <QList>

#include <memory>
#include <optional>

namespace raven::ledger {

class CoordinatorStore {
public:
    // Opens or creates the database file and migrates it to the latest schema. raven::Error if the
    // file cannot be opened, is not a Raven database, or has a newer schema than this build.
    explicit CoordinatorStore(const QString& path);
    ~CoordinatorStore();
    CoordinatorStore(const CoordinatorStore&) = delete;
    CoordinatorStore& operator=(const CoordinatorStore&) = delete;

    const QString& path() const;
    int schemaVersion() const;
    // The connection, for Ledger and LeaseBook (and for a Transaction spanning several calls).
    SqlConnection& connection() { return *connection_; }
    const SqlConnection& connection() const { return *connection_; }

    // --- contributors ---------------------------------------------------------------------------
    // Stores hashSecret(token), never the token. raven::Error if the token is already registered.
    ContributorId addContributor(const QString& name, const QByteArray& token, const QJsonArray& devices,
                                 double measuredGflops, const QDateTime& now);
    std::optional<Contributor> contributor(ContributorId id) const;
    // Who presents this token; nullopt for an unknown token.
    std::optional<ContributorId> contributorByToken(const QByteArray& token) const;
    // A worker re-registers after a new benchmark or a changed device list.
    void updateContributorDevices(ContributorId id, const QJsonArray& devices, double measuredGflops);

    // --- requesters -----------------------------------------------------------------------------
    RequesterId addRequester(const QString& name, const QByteArray& apiKey, const QDateTime& now);
    std::optional<Requester> requester(RequesterId id) const;
    std::optional<RequesterId> requesterByApiKey(const QByteArray& apiKey) const;

    // --- jobs -----------------------------------------------------------------------------------
    // A new job is queued with budget 0; Ledger::fundJob() gives it money.
    JobId addJob(const NewJob& job, const QDateTime& now);
    std::optional<Job> job(JobId id) const;
    // The job's state alone: what the leasing and paying paths ask of a job many times a step, without
    // parsing its spec and hyperparameters (JSON) each time.
    std::optional<JobState> jobState(JobId id) const;
    // All jobs, oldest first; only those in `state` when given.
    QList<Job> jobs(std::optional<JobState> state = std::nullopt) const;
    // raven::Error for an unknown job or when the job is done or cancelled (terminal). Use
    // Ledger::endJob() to finish a job: it refunds the unspent escrow in the same transaction.
    void setJobState(JobId id, JobState state, const QDateTime& now);
    // The coordinator stepped the optimizer: the job's authoritative weights are now `version`.
    void setJobModelVersion(JobId id, qint64 version, const QDateTime& now);

    // --- work units (leasing and acceptance: LeaseBook) -----------------------------------------
    // Adds the work units of one step of a job in one transaction, all pending.
    QList<WorkUnitId> addWorkUnits(JobId job, qint64 modelVersion, const QList<NewWorkUnit>& units);
    std::optional<WorkUnit> workUnit(WorkUnitId id) const;
    // The units of a job, in id order; only those of `modelVersion` / in `state` when given.
    QList<WorkUnit> workUnits(JobId job, std::optional<qint64> modelVersion = std::nullopt,
                              std::optional<WorkUnitState> state = std::nullopt) const;

private:
    std::unique_ptr<SqlConnection> connection_;
};

}  // namespace raven::ledger
