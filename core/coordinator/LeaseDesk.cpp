#include "coordinator/LeaseDesk.h"

#include <QtGlobal>

#include <algorithm>
#include <utility>

#include "ledger/Transaction.h"

namespace raven::coordinator {

LeaseDesk::LeaseDesk(ledger::CoordinatorStore& store, ledger::LeaseBook& leases, Scheduler& scheduler,
                     qint64 unitDeadlineMs)
    : store_(store), leases_(leases), scheduler_(scheduler), unitDeadlineMs_(unitDeadlineMs) {}

int LeaseDesk::holdCap(ledger::ContributorId contributor, const QDateTime& now) {
    auto& delivered = recentlyAccepted_[contributor];
    while (!delivered.empty() && delivered.front().msecsTo(now) > unitDeadlineMs_) delivered.pop_front();
    return kStartingLeases + 2 * static_cast<int>(delivered.size());
}

Scheduler::Grant LeaseDesk::grant(const Scheduler::Worker& worker, int maxUnits,
                                  const std::vector<Scheduler::JobSlot>& jobs, double totalGflops,
                                  const QDateTime& now) {
    const QDateTime deadline = now.addMSecs(unitDeadlineMs_);
    // A unit's latest lease was granted unitDeadlineMs before its deadline.
    const QDateTime speculateIfDeadlineBefore = deadline.addMSecs(-speculateAfterMs());
    const int observedCap = holdCap(worker.id, now);
    Scheduler::Worker capped = worker;
    if (auto in = handedIn_.find(worker.id); in != handedIn_.end()) capped.handedIn = in->second;
    // At most a cap's worth are let off (the scheduler counts those still leased to it): results
    // waiting to be judged are memory held for this worker, so one whose results arrive faster than
    // the disk takes them cannot pile up more.
    capped.handedInLetOff = observedCap;
    capped.maxConcurrentLeases =
        worker.maxConcurrentLeases > 0 ? std::min(worker.maxConcurrentLeases, observedCap) : observedCap;
    // One transaction for all the units of the grant, not one per unit, and no fsync of its own:
    // a lease a crash loses is one start-up hands back anyway, and the next synced commit (the
    // result's payment) makes it durable first (ledger/Transaction.h).
    ledger::Transaction tx(store_.connection(), ledger::Transaction::Sync::WithNextSynced);
    Scheduler::Grant granted =
        scheduler_.lease(capped, maxUnits, jobs, totalGflops, deadline, now, speculateIfDeadlineBefore);
    tx.commit();
    return granted;
}

void LeaseDesk::park(ParkedLease request, const QDateTime& now) {
    request.until = now.addMSecs(kParkMs);
    parked_.push_back(request);
}

void LeaseDesk::serveParked(const QDateTime& now,
                            const std::function<std::optional<wire::Envelope>(const ParkedLease&)>& grantFor,
                            const std::function<wire::Envelope(const ParkedLease&, const std::exception&)>& failed,
                            const std::function<void(const ParkedLease&, wire::Envelope)>& send) {
    const bool everyone = std::exchange(everyone_, false);
    const std::set<ledger::ContributorId> delivered = std::exchange(deliveredTo_, {});
    const auto mayGetSomething = [&](const ParkedLease& p) {
        return everyone || now >= p.until || delivered.count(p.contributor) > 0;
    };
    if (std::none_of(parked_.begin(), parked_.end(), mayGetSomething)) return;
    std::vector<ParkedLease> waiting;
    waiting.swap(parked_);
    std::vector<std::pair<ParkedLease, wire::Envelope>> answers;
    try {
        // Each grant inside is a savepoint; unsynced, as grant()'s.
        ledger::Transaction tx(store_.connection(), ledger::Transaction::Sync::WithNextSynced);
        for (const ParkedLease& p : waiting) {
            if (!mayGetSomething(p)) {
                parked_.push_back(p);
                continue;
            }
            try {
                std::optional<wire::Envelope> reply = grantFor(p);
                if (!reply) continue;  // its connection is gone
                if (reply->lease_grant().units_size() == 0 && now < p.until) {
                    parked_.push_back(p);
                    continue;
                }
                answers.emplace_back(p, std::move(*reply));
            } catch (const std::exception& e) {
                answers.emplace_back(p, failed(p, e));
            }
        }
        tx.commit();
    } catch (const std::exception& e) {
        qWarning("coordinator: granting parked lease requests failed: %s", e.what());
        parked_ = waiting;  // still parked: the next chance answers them
        everyone_ = true;
        return;
    }
    for (auto& [p, reply] : answers) send(p, std::move(reply));
}

void LeaseDesk::delivered(ledger::ContributorId contributor, const QDateTime& leasedAt, const QDateTime& now) {
    const double ms = static_cast<double>(std::max<qint64>(0, leasedAt.msecsTo(now)));
    turnaroundMs_ = turnaroundMs_ > 0.0 ? 0.8 * turnaroundMs_ + 0.2 * ms : ms;
    recentlyAccepted_[contributor].push_back(now);
    deliveredTo_.insert(contributor);
}

void LeaseDesk::handedIn(ledger::ContributorId contributor, ledger::WorkUnitId unit) {
    std::set<ledger::WorkUnitId>& units = handedIn_[contributor];
    // Every answer calls judged(); the bound only keeps a path that forgot it from growing the set.
    if (units.size() >= kHandedInKept) units.erase(units.begin());
    units.insert(unit);
    deliveredTo_.insert(contributor);
}

void LeaseDesk::judged(ledger::ContributorId contributor, ledger::WorkUnitId unit) {
    auto in = handedIn_.find(contributor);
    if (in == handedIn_.end()) return;
    in->second.erase(unit);
    if (in->second.empty()) handedIn_.erase(in);
}

qint64 LeaseDesk::speculateAfterMs() const { return std::max<qint64>(1000, static_cast<qint64>(4.0 * turnaroundMs_)); }

LeaseDesk::HandBack LeaseDesk::handBack(ledger::ContributorId contributor, const QList<ledger::WorkUnitId>& units,
                                        const QDateTime& now) {
    HandBack back;
    for (const ledger::WorkUnitId id : units) {
        const std::optional<ledger::WorkUnit> unit = store_.workUnit(id);
        if (!unit || !leases_.handBack(id, contributor, now)) continue;
        ++back.reissued[unit->job];
        back.held << *unit;
    }
    if (!back.held.isEmpty()) everyone_ = true;
    return back;
}

QMap<ledger::JobId, int> LeaseDesk::expire(const QDateTime& now) {
    QMap<ledger::JobId, int> reissued;
    for (const ledger::WorkUnitId id : leases_.expireLeases(now))
        if (const auto unit = store_.workUnit(id)) ++reissued[unit->job];
    if (!reissued.isEmpty()) everyone_ = true;
    return reissued;
}

}  // namespace raven::coordinator
