#pragma once
// Ledger: the credits, kept by double-entry bookkeeping in the coordinator's store.
//
// Accounts (one per owner, created on first use):
//   mint                 where credits come from; its balance is minus the credits in circulation,
//                        the only account that may be negative
//   requester R          R's funds, not yet committed to a job
//   job J                J's escrow: funded by its requester, paying its contributors
//   contributor C        C's earnings: confirmed credits only, what C may spend
//   pending C            C's credits held until verified (pending credits)
// Every movement is an entry with postings that sum to zero, written in one transaction together
// with the state change it pays for:
//   deposit(R, a)             mint -a, requester R +a
//   fundJob(J, a)             requester(J) -a, job J +a        (J.budget grows by a)
//   creditWorkUnit(U, C, f)   job(U) -p, pending C +p          p = priceOf(f); U becomes done, its
//                                                              credit pending
//   confirmCredit(U)          pending C -p, contributor C +p   the credit confirmed
//   revokeCredit(U, why)      pending C -p, job(U) +p          the credit revoked (to requester(J)
//                                                              when the job has ended)
//   endJob(J, done|cancelled) job J -e, requester(J) +e        e = J's whole remaining escrow
// Amounts are integer micro-credits (StoreTypes.h). A posting never makes a non-mint account
// negative: the UPDATE that moves money only matches a row whose balance covers the debit, and a
// CHECK constraint on accounts backs that up. Entries and postings are append-only (triggers).
//
// Exactly once: the entries table has a UNIQUE work_unit column. creditWorkUnit inserts its entry
// with ON CONFLICT DO NOTHING; when a payment for the unit already exists (a duplicate result, a
// replay after a crash) nothing is inserted and the answer is AlreadyPaid. Because the work unit is
// marked done in the same transaction, "done" and "paid once" are the same fact on disk.
//
// Credit states (StoreTypes.h CreditState, table credits): a unit's credit is pending from its
// acceptance until it is verified (confirmCredit: its replay matched) or its verification window
// passes (confirmDueCredits, the coordinator's sweep), or it is revoked: its result was found wrong
// (revokeCredit ReplayMismatch, which also records a rejection), its contributor was quarantined
// (revokePendingCredits), or robust aggregation named it an outlier (revokeCredit Outlier). A
// window of zero (CreditWindow::none()) confirms each credit in the transaction that pays it.
//
// Price: priceOf(flops) = floor(flops * rate.perTeraflop / 10^12). The remainders stay in the escrow
// and go back to the requester with the refund.
#include "ledger/CoordinatorStore.h"

#include <QDate>

namespace raven::ledger {

enum class AccountKind { Mint, Requester, Job, Contributor, Pending };

struct Account {
    AccountKind kind = AccountKind::Mint;
    qint64 owner = 0;  // the requester, job or contributor id; 0 for the mint

    static Account mint() { return {AccountKind::Mint, 0}; }
    static Account requester(RequesterId id) { return {AccountKind::Requester, id}; }
    static Account job(JobId id) { return {AccountKind::Job, id}; }
    static Account contributor(ContributorId id) { return {AccountKind::Contributor, id}; }
    static Account pending(ContributorId id) { return {AccountKind::Pending, id}; }
};

// How long a credit stays pending when nothing checks it: until `seconds` have passed since the
// acceptance AND the job's model moved `steps` versions past the unit's (the later of the two), or
// the job ended. The default gives a step's replays and the next steps' robust aggregation time to
// catch a cheater before its credits become spendable.
struct CreditWindow {
    qint64 seconds = 600;
    qint64 steps = 3;
    static CreditWindow none() { return {0, 0}; }
    bool isNone() const { return seconds == 0 && steps == 0; }
};

struct CreditRate {
    MicroCredits perTeraflop = kMicroCreditsPerCredit;  // default: 1 credit per 10^12 FLOPs
};

enum class CreditOutcome {
    Paid,         // the entry is written and the work unit is done
    AlreadyPaid,  // the unit has its payment already: nothing changed
    OutOfBudget,  // the escrow cannot pay: nothing paid, the unit unchanged, the job now out_of_budget
    JobEnded,     // the job is done or cancelled: nothing changed
};

struct CreditResult {
    CreditOutcome outcome = CreditOutcome::Paid;
    CreditState state = CreditState::Pending;  // Paid, AlreadyPaid: the unit's credit now
    MicroCredits amount = 0;                   // paid now (Paid) or earlier (AlreadyPaid); else 0
    EntryId entry = 0;                         // the unit's payment entry (Paid, AlreadyPaid); else 0
};

// One work unit's credit (table credits).
struct UnitCredit {
    WorkUnitId workUnit = 0;
    JobId job = 0;
    ContributorId contributor = 0;
    MicroCredits amount = 0;
    CreditState state = CreditState::Pending;
    QDateTime dueAt;        // the window's time part
    qint64 dueVersion = 0;  // the window's steps part: the job's model_version it waits for
    QDateTime settledAt;    // invalid while pending
    QString reason;         // a revoked credit's RevokeReason name; else empty
};

// What settling several credits did.
struct CreditSweep {
    qint64 credits = 0;
    MicroCredits amount = 0;
};

struct DailyCredits {
    QDate day;  // UTC
    MicroCredits amount = 0;
    qint64 workUnits = 0;  // accepted from the contributor that day
};

struct ContributorStats {
    qint64 workUnitsAccepted = 0;
    qint64 resultsRejected = 0;  // LeaseBook::rejectResult
    qint64 flopsAccepted = 0;    // the FLOPs of the accepted units, as paid
    MicroCredits earned = 0;     // confirmed: the earnings account's balance, what it may spend
    MicroCredits pending = 0;    // accepted, waiting for verification: the pending account's balance
    MicroCredits revoked = 0;    // withheld for failed checks (never paid)
    QList<DailyCredits> perDay;  // the last N days (UTC), oldest first, every day present
};

struct JobSpend {
    MicroCredits funded = 0;    // into escrow by fundJob (== job.budget)
    MicroCredits paid = 0;      // to contributors, pending or confirmed (revoked credits excluded)
    MicroCredits pending = 0;   // of paid: still pending verification
    MicroCredits revoked = 0;   // withheld from contributors (back into the escrow, or refunded)
    MicroCredits refunded = 0;  // back to the requester: endJob, and credits revoked after it
    MicroCredits escrow = 0;    // left: funded - paid - refunded
    qint64 workUnitsPaid = 0;
    qint64 flopsPaid = 0;
};

struct AuditReport {
    QStringList problems;  // one line per violated invariant; empty when the ledger is sound
    qint64 entries = 0;
    qint64 postings = 0;
    qint64 accounts = 0;
    bool ok() const { return problems.isEmpty(); }
};

class Ledger {
public:
    Ledger(CoordinatorStore& store, CreditRate rate = {}, CreditWindow window = {});

    const CreditRate& rate() const { return rate_; }
    const CreditWindow& window() const { return window_; }
    // floor(flops * rate.perTeraflop / 10^12); raven::Error when the price overflows 64 bits.
    MicroCredits priceOf(qint64 flops) const;

    // Credits minted into a requester's funds. raven::Error for an unknown requester or amount <= 0.
    EntryId deposit(RequesterId requester, MicroCredits amount, const QDateTime& now);
    // Moves credits from the job's requester into the job's escrow; an out_of_budget job becomes
    // paused (the scheduler resumes it). raven::Error when the requester's funds do not cover it,
    // for amount <= 0, an unknown job, or a job that is done or cancelled.
    EntryId fundJob(JobId job, MicroCredits amount, const QDateTime& now);
    // Pays `contributor` priceOf(flops) from the job's escrow into its pending account (a pending
    // credit; confirmed at once under CreditWindow::none()) and marks the unit done, accepted from
    // the contributor at `now`, its leases completed (the contributor's) or superseded (others'), all
    // in one transaction, once per work unit ever. raven::Error for an unknown unit or contributor,
    // or flops <= 0. See CreditOutcome for the other answers.
    CreditResult creditWorkUnit(WorkUnitId workUnit, ContributorId contributor, qint64 flops, const QDateTime& now);
    // Ends a job (finalState Done or Cancelled) and refunds its unspent escrow to the requester in the
    // same transaction; returns the refund. Ending a job again in the same state returns 0.
    MicroCredits endJob(JobId job, JobState finalState, const QDateTime& now);

    // --- credit states (LedgerCredits.cpp) -----------------------------------------------------------
    // The unit's replay matched: its pending credit becomes the contributor's. false when the unit
    // has no pending credit (none, or already confirmed or revoked).
    bool confirmCredit(WorkUnitId workUnit, const QDateTime& now);
    // The unit's pending credit goes back to its job (to the requester when the job has ended).
    // ReplayMismatch also records a rejection of the unit against its contributor. false when the
    // unit has no pending credit: a confirmed credit stays paid.
    bool revokeCredit(WorkUnitId workUnit, RevokeReason why, const QDateTime& now);
    // Every pending credit of the contributor, in every job, in work unit order: its results no
    // replay has checked yet (what a rewind replays before revokePendingCredits takes them back).
    // Bounded by the credits' window, not by how long its jobs ran.
    QList<UnitCredit> pendingCredits(ContributorId contributor) const;
    // Revokes every pending credit of the contributor, in every job, in one transaction.
    CreditSweep revokePendingCredits(ContributorId contributor, RevokeReason why, const QDateTime& now);
    // Confirms, in one transaction, every pending credit whose window has passed (or whose job has
    // ended), except a quarantined contributor's.
    CreditSweep confirmDueCredits(const QDateTime& now);
    std::optional<UnitCredit> credit(WorkUnitId workUnit) const;

    // --- queries (LedgerQueries.cpp) --------------------------------------------------------------
    // 0 for an account that has never moved.
    MicroCredits balance(const Account& account) const;
    // `days` >= 1: perDay covers today (the UTC day of `now`) and the days - 1 before it.
    ContributorStats contributorStats(ContributorId contributor, int days, const QDateTime& now) const;
    JobSpend jobSpend(JobId job) const;
    // The lowest model version of the job's units whose credit is still pending (nullopt: none). A
    // step below it holds only final results: the rewind archive need not keep it (RewindArchive.h).
    std::optional<qint64> earliestPendingVersion(JobId job) const;
    // Over all the requester's jobs: the credits paid that are still pending verification
    // and those withheld from contributors (revoked), as {pending, revoked}.
    std::pair<MicroCredits, MicroCredits> requesterCredits(RequesterId requester) const;

    // --- audit (LedgerAudit.cpp) -------------------------------------------------------------------
    // Verifies: every entry's postings sum to zero; every account's balance equals the sum of its
    // postings; no account but the mint is negative; all balances sum to zero; every done work unit
    // has exactly one payment entry and every payment entry's unit is done, paid to the contributor
    // it was accepted from; each job's budget equals what was funded into it; SQLite's own
    // integrity and foreign-key checks. And the credit states: every payment entry has exactly one
    // credit, in one consistent state (settled by one entry of its state's kind, unless confirmed
    // before schema v3); each pending account holds exactly its pending credits, and the pending,
    // confirmed and revoked sums match their postings; no confirmed credit for a result that was
    // rejected (a replay mismatch); no pending credit of a quarantined contributor.
    AuditReport audit() const;

private:
    // The account's row id, creating the row on first use (inside the caller's transaction).
    qint64 accountId(const Account& account);
    // Inserts the postings of `entry` and moves the balances, in a savepoint of its own; returns
    // false, with every posting of this call undone, when a debit would make a non-mint account
    // negative.
    bool post(EntryId entry, const QList<std::pair<Account, MicroCredits>>& postings);
    EntryId addEntry(const QString& kind, const QDateTime& now, std::optional<JobId> job, const QString& memo);
    // Moves a pending credit to its final state with its settling entry; inside the caller's transaction.
    void settle(const UnitCredit& credit, CreditState to, std::optional<RevokeReason> why, const QDateTime& now);

    CoordinatorStore& store_;
    SqlConnection& sql_;
    CreditRate rate_;
    CreditWindow window_;
};

QString nameOf(AccountKind kind);  // "mint", "requester", "job", "contributor", "pending"

}  // namespace raven::ledger
