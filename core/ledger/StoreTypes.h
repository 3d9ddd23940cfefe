#pragma once
// The vocabulary of the coordinator's store: identifiers, money, and the states a job and a work
// unit move through. Plain values, shared by CoordinatorStore, Ledger and LeaseBook.
//
// Money is an integer number of micro-credits (1 credit = 1,000,000 micro-credits): the ledger never
// holds a float, so sums are exact and an audit can demand equality, not closeness.
#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <optional>

namespace raven::ledger {

using ContributorId = qint64;
using RequesterId = qint64;
using JobId = qint64;
using WorkUnitId = qint64;
using EntryId = qint64;
using MicroCredits = qint64;

inline constexpr MicroCredits kMicroCreditsPerCredit = 1'000'000;

// queued -> running <-> paused; running/paused -> out_of_budget (escrow cannot pay the next unit;
// funding the job again makes it paused); any non-terminal state -> done | cancelled (terminal).
enum class JobState { Queued, Running, Paused, Done, Cancelled, OutOfBudget };

// pending (never leased, or handed back) -> leased -> done, or leased -> expired (every lease ran
// past its deadline; waiting to be re-issued) -> leased ... A done unit never changes again.
enum class WorkUnitState { Pending, Leased, Done, Expired };

// A paid work unit's credit: pending (accepted, held in the contributor's pending account until
// verified) -> confirmed (its replay matched, or its verification window passed unchecked: the
// contributor's to spend) | revoked (its result was found wrong, its contributor quarantined, or
// robust aggregation named it an outlier: back to the job). Confirmed and revoked are final.
enum class CreditState { Pending, Confirmed, Revoked };

// Why a pending credit was revoked; stored as the credit's reason.
enum class RevokeReason { ReplayMismatch, Quarantined, Outlier };

QString nameOf(JobState state);                              // "queued", "running", ..., "out_of_budget"
QString nameOf(WorkUnitState state);                         // "pending", "leased", "done", "expired"
JobState jobStateFromString(const QString& text);            // raven::Error for an unknown name
WorkUnitState workUnitStateFromString(const QString& text);  // raven::Error for an unknown name
QString nameOf(CreditState state);                           // "pending", "confirmed", "revoked"
QString nameOf(RevokeReason reason);                         // "replay_mismatch", "quarantined", "outlier"
CreditState creditStateFromString(const QString& text);      // raven::Error for an unknown name
// Done and Cancelled: nothing is leased, credited or funded any more.
bool isTerminal(JobState state);

struct Contributor {
    ContributorId id = 0;
    QString name;
    QString tokenHash;  // hex SHA-256 of the token (see Secrets.h); the token itself is never stored
    QDateTime registeredAt;
    QJsonArray devices;  // as the worker reported them
    double measuredGflops = 0;
};

struct Requester {
    RequesterId id = 0;
    QString name;
    QString apiKeyHash;  // hex SHA-256 of the API key
    QDateTime registeredAt;
};

struct NewJob {
    RequesterId requester = 0;
    QString name;
    QJsonObject spec;             // the model spec (docs/model-spec.md)
    QJsonObject hyperparameters;  // optimizer, batch, steps, ...
    QString dataset;              // the dataset's id (its manifest hash)
};

struct Job {
    JobId id = 0;
    RequesterId requester = 0;
    QString name;
    QJsonObject spec;
    QJsonObject hyperparameters;
    QString dataset;
    MicroCredits budget = 0;  // everything ever funded into the job's escrow (mirrors the ledger)
    JobState state = JobState::Queued;
    qint64 modelVersion = 0;  // the version of the authoritative weights
    QDateTime createdAt;
    QDateTime updatedAt;
};

struct NewWorkUnit {
    QStringList shardHashes;  // hex SHA-256 of each shard (data::ShardStore names)
    qint64 flops = 0;         // floating-point operations the unit costs; what it is paid for
};

struct WorkUnit {
    WorkUnitId id = 0;
    JobId job = 0;
    qint64 modelVersion = 0;
    QStringList shardHashes;
    qint64 flops = 0;
    WorkUnitState state = WorkUnitState::Pending;
    std::optional<ContributorId> leaseHolder;   // the most recent lease (kept after it ends, for display)
    QDateTime leaseDeadline;                    // invalid when never leased
    QDateTime acceptedAt;                       // valid exactly when state == Done
    std::optional<ContributorId> acceptedFrom;  // set exactly when state == Done
};

}  // namespace raven::ledger
