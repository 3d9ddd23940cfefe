#pragma once
// SimulatedWorker: one contributor's session as the coordinator sees a real worker's, without the
// arithmetic. Over its own TLS WebSocket (ProtocolClient): Hello, RegisterContributor under open
// enrollment (the coordinator creates the contributor and returns its token), then Heartbeats when
// the fleet says they are due. An active one also leases (LeaseRequest, as many units as the
// coordinator lets it hold), submits each granted unit's result (ResultTemplate) the moment it is
// granted, and asks for the next units once the results are sent, as raven-worker does.
//
//   SimulatedWorker w(7, fleet);
//   w.open(url);                 // fleet.onRegistered(w) or fleet.onLost(w, reason) follows
//   w.heartbeat();               // the fleet's ticker, every heartbeat interval
//   w.startWorking();            // lease -> submit -> lease ...
#include <QElapsedTimer>
#include <QString>
#include <QUrl>

#include <memory>

#include "protocol/raven.pb.h"

namespace raven::protocol {
class ProtocolClient;
}

namespace raven::bench {

class LoadFleet;

class SimulatedWorker {
public:
    enum class Phase { Idle, Connecting, Registering, Holding, Lost };

    SimulatedWorker(int index, LoadFleet& fleet);
    ~SimulatedWorker();
    SimulatedWorker(const SimulatedWorker&) = delete;
    SimulatedWorker& operator=(const SimulatedWorker&) = delete;

    void open(const QUrl& url);
    void heartbeat();
    void startWorking();
    // Submits the units that waited for the fleet's result template.
    void flushWaitingUnits();

    Phase phase() const { return phase_; }
    int index() const { return index_; }
    protocol::ProtocolClient& client() { return *client_; }

private:
    void onReady();
    void lease();
    void onGrant(const wire::LeaseGrant& grant, double latencyMs);
    void submit(const wire::WorkUnit& unit);
    void lose(const QString& reason);

    int index_;
    LoadFleet& fleet_;
    std::unique_ptr<protocol::ProtocolClient> client_;
    Phase phase_ = Phase::Idle;
    bool working_ = false;
    bool leaseOutstanding_ = false;
    std::vector<wire::WorkUnit> waiting_;  // granted before the template was ready
};

}  // namespace raven::bench
