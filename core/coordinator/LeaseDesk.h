#pragma once
// LeaseDesk: how much work a worker may hold and when it gets it. The Scheduler picks the units;
// the desk decides the terms and keeps the waiting line.
//
//   LeaseDesk desk(store, leases, scheduler, unitDeadlineMs);
//   Scheduler::Grant g = desk.grant(worker, maxUnits, jobs, totalGflops, now);  // one transaction
//   if (g.units.isEmpty()) desk.park({connection, requestId, maxUnits}, now);
//   desk.serveParked(now, grantFor, send);     // when work may have appeared
//   desk.delivered(contributor, leasedAt, now); // an accepted result
//
// - Holdings follow what the worker has delivered, not the speed or limit it declared: a few units
//   to start with (kStartingLeases), then up to twice the results accepted from it within the last
//   unit deadline. A worker that declares a huge speed and no limit cannot hoard a step's units.
// - A unit whose result the worker has handed in (every byte arrived, being checked, written and
//   judged: handedIn()) no longer counts as held, until judged(): the worker computes nothing for
//   it. Counting it until the acceptance made a worker with two units wait out each result's
//   durable write before its next grant: an MLP worker computed 11-15 ms of every 40-60
//   (docs/benchmarks.md, "Results handed in are no longer held"). At most a cap's worth are let
//   off: results waiting to be judged are memory held for the worker.
// - Speculation: idle workers duplicate a leased unit only once its lease is older than
//   speculateAfterMs() (several typical unit turnarounds, measured from accepted results), so that
//   a normal step end does not double the work.
// - Parked requests (long polling): a request that gets nothing waits up to kParkMs and is answered
//   as soon as a step's units appear, units come back, or its time is up, so that idle workers start
//   the next step without polling delay. All grants made for parked requests at once are one store
//   transaction, and their answers go out after it commits: no worker holds a lease the store lacks.
//   A parked request is offered again only when something may have changed its answer: units came
//   back or appeared (workMayHaveAppeared(), handBack(), expire()), its contributor delivered (its
//   cap grew), or its time is up. Offering all of them after every result cost a store transaction
//   and a scheduler query per parked worker per result: a fifth of the coordinator's CPU with 50
//   workers waiting for a step's last results (docs/benchmarks.md, "Coordinator capacity").
// - Hand-backs and expiry go through the LeaseBook; the desk counts what was re-issued per job.
#include <QDateTime>
#include <QMap>

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "coordinator/Scheduler.h"
#include "ledger/LeaseBook.h"
#include "protocol/ProtocolServer.h"

namespace raven::coordinator {

class LeaseDesk {
public:
    // How long a lease request with nothing to lease waits for work before it is answered empty.
    static constexpr int kParkMs = 1000;
    // Units a worker may hold before any of its results came back.
    static constexpr int kStartingLeases = 2;
    // Handed-in units remembered per contributor at most (judged() removes each one).
    static constexpr std::size_t kHandedInKept = 256;

    struct ParkedLease {
        protocol::ConnectionId connection = 0;
        std::uint64_t requestId = 0;
        int maxUnits = 1;
        QDateTime until;                        // set by park()
        ledger::ContributorId contributor = 0;  // whose request: its deliveries may let it hold more
    };
    struct HandBack {
        QMap<ledger::JobId, int> reissued;  // units per job that go back to the queue
        QList<ledger::WorkUnit> held;       // the handed-back units the contributor really held
    };

    LeaseDesk(ledger::CoordinatorStore& store, ledger::LeaseBook& leases, Scheduler& scheduler, qint64 unitDeadlineMs);

    // What the scheduler gives this worker now (possibly nothing), leased in one store transaction.
    // `worker.maxConcurrentLeases` is the worker's own limit (0: none); the desk's cap applies too.
    Scheduler::Grant grant(const Scheduler::Worker& worker, int maxUnits, const std::vector<Scheduler::JobSlot>& jobs,
                           double totalGflops, const QDateTime& now);
    void park(ParkedLease request, const QDateTime& now);
    // Offers `grantFor` each parked request that may get something now (see the top: work may have
    // appeared, its contributor delivered, or its time is up; the others stay parked untouched);
    // nullopt: its connection is gone, drop it. An empty grant before the request's time is parked
    // again. `send` gets the answers after the commit. An exception from `grantFor` becomes that
    // request's answer via `failed`.
    void serveParked(const QDateTime& now,
                     const std::function<std::optional<wire::Envelope>(const ParkedLease&)>& grantFor,
                     const std::function<wire::Envelope(const ParkedLease&, const std::exception&)>& failed,
                     const std::function<void(const ParkedLease&, wire::Envelope)>& send);
    std::size_t parkedCount() const { return parked_.size(); }
    // Units may have become leasable for anyone (a step's units, a job resumed, a lease ended, time
    // passed for speculation): the next serveParked() offers every parked request.
    void workMayHaveAppeared() { everyone_ = true; }

    // An accepted result of a unit leased at `leasedAt`: the worker may hold more, and the typical
    // turnaround (for speculation) moves.
    void delivered(ledger::ContributorId contributor, const QDateTime& leasedAt, const QDateTime& now);
    // The result of `unit` is all in: the unit no longer counts as held by `contributor`, whose parked
    // request is offered again. judged(): its fate is known (accepted, refused, or failed).
    void handedIn(ledger::ContributorId contributor, ledger::WorkUnitId unit);
    void judged(ledger::ContributorId contributor, ledger::WorkUnitId unit);
    // The cap on units this contributor may hold now (before its own limit).
    int holdCap(ledger::ContributorId contributor, const QDateTime& now);
    qint64 speculateAfterMs() const;

    HandBack handBack(ledger::ContributorId contributor, const QList<ledger::WorkUnitId>& units, const QDateTime& now);
    // Leases past their deadline end; units per job that go back to the queue.
    QMap<ledger::JobId, int> expire(const QDateTime& now);

private:
    ledger::CoordinatorStore& store_;
    ledger::LeaseBook& leases_;
    Scheduler& scheduler_;
    qint64 unitDeadlineMs_;
    std::vector<ParkedLease> parked_;
    bool everyone_ = false;                        // offer every parked request on the next serveParked()
    std::set<ledger::ContributorId> deliveredTo_;  // since the last serveParked(): their caps grew
    std::map<ledger::ContributorId, std::deque<QDateTime>> recentlyAccepted_;
    std::map<ledger::ContributorId, std::set<ledger::WorkUnitId>> handedIn_;
    double turnaroundMs_ = 0.0;  // moving average of lease-to-result time of accepted units
};

}  // namespace raven::coordinator
