#pragma once
// Ledger: the credits, kept by double-entry bookkeeping in the coordinator's store.
//
// Accounts (one per owner, created on first use):
//   mint                 where credits come from; its balance is minus the credits in circulation,
//                        the only account that may be negative
//   requester R          R's funds, not yet committed to a job
//   job J                J's escrow: funded by its requester, paying its contributors
//   contributor C        C's earnings
// Every movement is an entry with postings that sum to zero, written in one transaction together
// with the state change it pays for:
//   deposit(R, a)             mint -a, requester R +a
//   fundJob(J, a)             requester(J) -a, job J +a        (J.budget grows by a)
//   creditWorkUnit(U, C, f)   job(U) -p, contributor C +p      p = priceOf(f); U becomes done
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
// Price: priceOf(flops) = floor(flops * rate.perTeraflop / 10^12). The remainders stay in the escrow
// and go back to the requester with the refund.
#include "ledger/CoordinatorStore.h"

#include <QDate>

namespace raven::ledger {

enum class AccountKind { Mint, Requester, Job, Contributor };

struct Account {
    AccountKind kind = AccountKind::Mint;
    qint64 owner = 0;  // the requester, job or contributor id; 0 for the mint

    static Account mint() { return {AccountKind::Mint, 0}; }
    static Account requester(RequesterId id) { return {AccountKind::Requester, id}; }
    static Account job(JobId id) { return {AccountKind::Job, id}; }
    static Account contributor(ContributorId id) { return {AccountKind::Contributor, id}; }
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
    MicroCredits amount = 0;  // paid now (Paid) or earlier (AlreadyPaid); else 0
    EntryId entry = 0;        // the unit's payment entry (Paid, AlreadyPaid); else 0
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
    MicroCredits earned = 0;     // the earnings account's balance
    QList<DailyCredits> perDay;  // the last N days (UTC), oldest first, every day present
};

struct JobSpend {
    MicroCredits funded = 0;    // into escrow by fundJob (== job.budget)
    MicroCredits paid = 0;      // to contributors
    MicroCredits refunded = 0;  // back to the requester by endJob
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
    Ledger(CoordinatorStore& store, CreditRate rate = {});

    const CreditRate& rate() const { return rate_; }
    // floor(flops * rate.perTeraflop / 10^12); raven::Error when the price overflows 64 bits.
    MicroCredits priceOf(qint64 flops) const;

    // Credits minted into a requester's funds. raven::Error for an unknown requester or amount <= 0.
    EntryId deposit(RequesterId requester, MicroCredits amount, const QDateTime& now);
    // Moves credits from the job's requester into the job's escrow; an out_of_budget job becomes
    // paused (the scheduler resumes it). raven::Error when the requester's funds do not cover it,
    // for amount <= 0, an unknown job, or a job that is done or cancelled.
    EntryId fundJob(JobId job, MicroCredits amount, const QDateTime& now);
    // Pays `contributor` priceOf(flops) from the job's escrow and marks the unit done, accepted from
    // the contributor at `now`, its leases completed (the contributor's) or superseded (others'), all
    // in one transaction, once per work unit ever. raven::Error for an unknown unit or contributor,
    // or flops <= 0. See CreditOutcome for the other answers.
    CreditResult creditWorkUnit(WorkUnitId workUnit, ContributorId contributor, qint64 flops, const QDateTime& now);
    // Ends a job (finalState Done or Cancelled) and refunds its unspent escrow to the requester in the
    // same transaction; returns the refund. Ending a job again in the same state returns 0.
    MicroCredits endJob(JobId job, JobState finalState, const QDateTime& now);

    // --- queries (LedgerQueries.cpp) --------------------------------------------------------------
    // 0 for an account that has never moved.
    MicroCredits balance(const Account& account) const;
    // `days` >= 1: perDay covers today (the UTC day of `now`) and the days - 1 before it.
    ContributorStats contributorStats(ContributorId contributor, int days, const QDateTime& now) const;
    JobSpend jobSpend(JobId job) const;

    // --- audit (LedgerAudit.cpp) -------------------------------------------------------------------
    // Verifies: every entry's postings sum to zero; every account's balance equals the sum of its
    // postings; no account but the mint is negative; all balances sum to zero; every done work unit
    // has exactly one payment entry and every payment entry's unit is done, paid to the contributor
    // it was accepted from; each job's budget equals what was funded into it; SQLite's own
    // integrity and foreign-key checks.
    AuditReport audit() const;

private:
    // The account's row id, creating the row on first use (inside the caller's transaction).
    qint64 accountId(const Account& account);
    // Inserts the postings of `entry` and moves the balances, in a savepoint of its own; returns
    // false, with every posting of this call undone, when a debit would make a non-mint account
    // negative.
    bool post(EntryId entry, const QList<std::pair<Account, MicroCredits>>& postings);
    EntryId addEntry(const QString& kind, const QDateTime& now, std::optional<JobId> job, const QString& memo);

    CoordinatorStore& store_;
    SqlConnection& sql_;
    CreditRate rate_;
};

QString nameOf(AccountKind kind);  // "mint", "requester", "job", "contributor"

}  // namespace raven::ledger
