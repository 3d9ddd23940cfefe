#include "ledger/Ledger.h"

#include "base/Error.h"
#include "ledger/Transaction.h"

#include <limits>

namespace raven::ledger {

namespace {

constexpr qint64 kFlopsPerTeraflop = 1'000'000'000'000;
// flops * rate needs more than 64 bits before the division; GCC and Clang both have __int128.
__extension__ using WideInt = __int128;

std::string amountText(MicroCredits amount) { return std::to_string(amount) + " micro-credits"; }

}  // namespace

QString nameOf(AccountKind kind) {
    switch (kind) {
        case AccountKind::Mint:
            return QStringLiteral("mint");
        case AccountKind::Requester:
            return QStringLiteral("requester");
        case AccountKind::Job:
            return QStringLiteral("job");
        case AccountKind::Contributor:
            return QStringLiteral("contributor");
        case AccountKind::Pending:
            return QStringLiteral("pending");
    }
    RAVEN_ASSERT(false, "unknown AccountKind value");
}

Ledger::Ledger(CoordinatorStore& store, CreditRate rate, CreditWindow window)
    : store_(store), sql_(store.connection()), rate_(rate), window_(window) {
    RAVEN_CHECK(rate.perTeraflop > 0, "credit rate of " + std::to_string(rate.perTeraflop) + " micro-credits per TFLOP",
                "configure a positive rate");
    RAVEN_CHECK(window.seconds >= 0 && window.steps >= 0,
                "a verification window of " + std::to_string(window.seconds) + " s and " +
                    std::to_string(window.steps) + " steps",
                "give the window in non-negative seconds and steps (0 and 0: credits are confirmed at once)");
}

MicroCredits Ledger::priceOf(qint64 flops) const {
    RAVEN_CHECK(flops >= 0, "negative FLOP count " + std::to_string(flops), "count the work unit's FLOPs");
    const WideInt price = static_cast<WideInt>(flops) * rate_.perTeraflop / kFlopsPerTeraflop;
    RAVEN_CHECK(price <= std::numeric_limits<MicroCredits>::max(),
                "the price of " + std::to_string(flops) + " FLOPs overflows the ledger's 64-bit amounts",
                "split the work into smaller units or lower the credit rate");
    return static_cast<MicroCredits>(price);
}

qint64 Ledger::accountId(const Account& account) {
    const QString kind = nameOf(account.kind);
    sql_.query(QStringLiteral("INSERT INTO accounts (kind, owner, balance) VALUES (?, ?, 0) "
                              "ON CONFLICT (kind, owner) DO NOTHING"),
               {kind, account.owner});
    return sql_.scalar(QStringLiteral("SELECT id FROM accounts WHERE kind = ? AND owner = ?"), {kind, account.owner})
        .toLongLong();
}

EntryId Ledger::addEntry(const QString& kind, const QDateTime& now, std::optional<JobId> job, const QString& memo) {
    const SqlRows q =
        sql_.query(QStringLiteral("INSERT INTO entries (kind, created_at, job, memo) VALUES (?, ?, ?, ?)"),
                   {kind, toSqlTime(now), job ? QVariant(*job) : QVariant(QMetaType::fromType<qint64>()), memo});
    return q.lastInsertId().toLongLong();
}

bool Ledger::post(EntryId entry, const QList<std::pair<Account, MicroCredits>>& postings) {
    MicroCredits sum = 0;
    for (const auto& posting : postings) sum += posting.second;
    RAVEN_ASSERT(sum == 0, "a ledger entry's postings must sum to zero");
    Transaction tx(sql_);
    for (const auto& [account, amount] : postings) {
        RAVEN_ASSERT(amount != 0, "a posting moves a non-zero amount");
        const qint64 id = accountId(account);
        // The guard in WHERE is the check; the accounts CHECK constraint is the backstop.
        const SqlRows q = sql_.query(
            QStringLiteral(
                "UPDATE accounts SET balance = balance + ? WHERE id = ? AND (kind = 'mint' OR balance + ? >= 0)"),
            {amount, id, amount});
        if (q.numRowsAffected() != 1) return false;  // tx rolls back the postings made so far
        sql_.query(QStringLiteral("INSERT INTO postings (entry, account, amount) VALUES (?, ?, ?)"),
                   {entry, id, amount});
    }
    tx.commit();
    return true;
}

EntryId Ledger::deposit(RequesterId requester, MicroCredits amount, const QDateTime& now) {
    RAVEN_CHECK(amount > 0, "deposit of " + amountText(amount) + " for requester " + std::to_string(requester),
                "deposit a positive amount");
    Transaction tx(sql_);
    RAVEN_CHECK(store_.requester(requester).has_value(),
                "deposit for requester " + std::to_string(requester) + ", which is unknown",
                "register the requester first");
    const EntryId entry = addEntry(QStringLiteral("deposit"), now, std::nullopt, {});
    const bool posted = post(entry, {{Account::mint(), -amount}, {Account::requester(requester), amount}});
    RAVEN_ASSERT(posted, "the mint can always pay");
    tx.commit();
    return entry;
}

EntryId Ledger::fundJob(JobId jobId, MicroCredits amount, const QDateTime& now) {
    RAVEN_CHECK(amount > 0, "funding job " + std::to_string(jobId) + " with " + amountText(amount),
                "fund with a positive amount");
    Transaction tx(sql_);
    const std::optional<Job> job = store_.job(jobId);
    RAVEN_CHECK(job.has_value(), "funding job " + std::to_string(jobId) + ", which is unknown", "check the job id");
    RAVEN_CHECK(!isTerminal(job->state),
                "job " + std::to_string(jobId) + " is " + nameOf(job->state).toStdString() + " and takes no more funds",
                "submit a new job");
    const EntryId entry = addEntry(QStringLiteral("fund_job"), now, jobId, {});
    if (!post(entry, {{Account::requester(job->requester), -amount}, {Account::job(jobId), amount}}))
        fail("requester " + std::to_string(job->requester) + " has " +
                 amountText(balance(Account::requester(job->requester))) + ", less than the " + amountText(amount) +
                 " to fund job " + std::to_string(jobId),
             "deposit more credits first or fund the job with less");
    const JobState state = job->state == JobState::OutOfBudget ? JobState::Paused : job->state;
    sql_.query(QStringLiteral("UPDATE jobs SET budget = budget + ?, state = ?, updated_at = ? WHERE id = ?"),
               {amount, nameOf(state), toSqlTime(now), jobId});
    tx.commit();
    return entry;
}

CreditResult Ledger::creditWorkUnit(WorkUnitId workUnit, ContributorId contributor, qint64 flops,
                                    const QDateTime& now) {
    RAVEN_CHECK(flops > 0,
                "crediting work unit " + std::to_string(workUnit) + " with " + std::to_string(flops) + " FLOPs",
                "credit the positive FLOP count of the unit");
    const MicroCredits price = priceOf(flops);
    Transaction tx(sql_);
    const std::optional<WorkUnit> unit = store_.workUnit(workUnit);
    RAVEN_CHECK(unit.has_value(), "crediting work unit " + std::to_string(workUnit) + ", which is unknown",
                "check the work unit id");
    RAVEN_CHECK(store_.contributor(contributor).has_value(),
                "crediting work unit " + std::to_string(workUnit) + " to contributor " + std::to_string(contributor) +
                    ", who is unknown",
                "register the contributor first");
    const std::optional<JobState> jobState = store_.jobState(unit->job);
    RAVEN_ASSERT(jobState.has_value(), "a work unit's job exists (foreign key)");

    CreditResult result;
    {
        Transaction payment(sql_);
        const SqlRows inserted =
            sql_.query(QStringLiteral("INSERT INTO entries (kind, created_at, job, work_unit, flops, memo) "
                                      "VALUES ('work_unit_credit', ?, ?, ?, ?, '') ON CONFLICT (work_unit) DO NOTHING"),
                       {toSqlTime(now), unit->job, workUnit, flops});
        if (inserted.numRowsAffected() == 0) {
            // The UNIQUE work_unit refused a second entry: this unit was paid before.
            result.outcome = CreditOutcome::AlreadyPaid;
            result.entry =
                sql_.scalar(QStringLiteral("SELECT id FROM entries WHERE work_unit = ?"), {workUnit}).toLongLong();
            if (const std::optional<UnitCredit> earlier = credit(workUnit)) result.state = earlier->state;
            result.amount = sql_.scalar(QStringLiteral("SELECT COALESCE(SUM(amount), 0) FROM postings WHERE entry = ? "
                                                       "AND amount > 0"),
                                        {result.entry})
                                .toLongLong();
            return result;  // nothing to keep: both transactions roll back
        }
        if (isTerminal(*jobState)) {
            result.outcome = CreditOutcome::JobEnded;
            return result;
        }
        const EntryId entry = inserted.lastInsertId().toLongLong();
        if (price > 0 && !post(entry, {{Account::job(unit->job), -price}, {Account::pending(contributor), price}})) {
            result.outcome = CreditOutcome::OutOfBudget;
        } else {
            const SqlRows done =
                sql_.query(QStringLiteral("UPDATE work_units SET state = 'done', accepted_at = ?, accepted_from = ? "
                                          "WHERE id = ? AND state <> 'done'"),
                           {toSqlTime(now), contributor, workUnit});
            RAVEN_CHECK(done.numRowsAffected() == 1,
                        "work unit " + std::to_string(workUnit) + " is done but had no payment in " +
                            store_.path().toStdString(),
                        "the database is inconsistent: stop the coordinator and run its audit");
            sql_.query(
                QStringLiteral("UPDATE leases SET state = CASE WHEN contributor = ? THEN 'completed' ELSE "
                               "'superseded' END, ended_at = ? WHERE work_unit = ? AND state IN ('active', 'expired')"),
                {contributor, toSqlTime(now), workUnit});
            sql_.query(QStringLiteral("INSERT INTO credits (work_unit, entry, job, contributor, amount, state, due_at, "
                                      "due_version) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)"),
                       {workUnit, entry, unit->job, contributor, price, toSqlTime(now.addSecs(window_.seconds)),
                        unit->modelVersion + window_.steps});
            result = {CreditOutcome::Paid, CreditState::Pending, price, entry};
            if (window_.isNone()) {
                settle(
                    UnitCredit{
                        workUnit, unit->job, contributor, price, CreditState::Pending, now, unit->modelVersion, {}, {}},
                    CreditState::Confirmed, std::nullopt, now);
                result.state = CreditState::Confirmed;
            }
            payment.commit();
        }
    }
    if (result.outcome == CreditOutcome::OutOfBudget && *jobState != JobState::OutOfBudget)
        sql_.query(QStringLiteral("UPDATE jobs SET state = 'out_of_budget', updated_at = ? WHERE id = ?"),
                   {toSqlTime(now), unit->job});
    tx.commit();
    return result;
}

MicroCredits Ledger::endJob(JobId jobId, JobState finalState, const QDateTime& now) {
    RAVEN_CHECK(isTerminal(finalState),
                "ending job " + std::to_string(jobId) + " as " + nameOf(finalState).toStdString(),
                "a job ends as done or cancelled");
    Transaction tx(sql_);
    const std::optional<Job> job = store_.job(jobId);
    RAVEN_CHECK(job.has_value(), "ending job " + std::to_string(jobId) + ", which is unknown", "check the job id");
    if (job->state == finalState) return 0;
    RAVEN_CHECK(!isTerminal(job->state),
                "job " + std::to_string(jobId) + " already ended as " + nameOf(job->state).toStdString(),
                "a done or cancelled job is final");
    const MicroCredits escrow = balance(Account::job(jobId));
    if (escrow > 0) {
        const EntryId entry = addEntry(QStringLiteral("refund"), now, jobId, nameOf(finalState));
        const bool posted = post(entry, {{Account::job(jobId), -escrow}, {Account::requester(job->requester), escrow}});
        RAVEN_ASSERT(posted, "the escrow covers its own balance");
    }
    sql_.query(QStringLiteral("UPDATE jobs SET state = ?, updated_at = ? WHERE id = ?"),
               {nameOf(finalState), toSqlTime(now), jobId});
    tx.commit();
    return escrow;
}

}  // namespace raven::ledger
