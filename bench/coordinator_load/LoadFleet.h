#pragma once
// LoadFleet: thousands of SimulatedWorkers in one process, and what they saw. It opens their
// connections a bounded number at a time (a burst of TLS handshakes is itself a load, measured
// apart), sends every worker's heartbeat from one ticker instead of one timer per worker, sets a
// chosen number of them to work, builds the one real result they all submit (ResultTemplate), and
// counts: registrations, lost sessions and why, lease answers and their latency, result
// acknowledgements by status, heartbeat round trips.
//
//   LoadFleet fleet({.url = url, .workers = 10000, .active = 100});
//   fleet.connectAll([&] { ... all registered or failed ... });
//   fleet.startWork();
//   fleet.resetWindow();  ...  fleet.window().accepted
#include <QElapsedTimer>
#include <QHash>
#include <QString>
#include <QTimer>
#include <QUrl>

#include <functional>
#include <memory>
#include <vector>

#include "ResultTemplate.h"
#include "SimulatedWorker.h"

namespace raven::bench {

class LoadFleet {
public:
    struct Options {
        QUrl url;
        int workers = 100;
        int active = 50;               // of them, those that lease and submit
        int unitsPerWorker = 1;        // max_units of each LeaseRequest, max_concurrent_leases
        int connectConcurrency = 128;  // connections being opened at once
        QString knownHostsPath;
    };

    // What happened since the last resetWindow().
    struct Window {
        std::int64_t accepted = 0;
        std::int64_t duplicate = 0;
        std::int64_t rejected = 0;
        std::int64_t emptyGrants = 0;
        std::int64_t errors = 0;
        std::vector<double> leaseMs;      // request -> grant carrying units (a parked request waits in it)
        std::vector<double> heartbeatMs;  // heartbeat -> ack
        QElapsedTimer since;
    };

    explicit LoadFleet(Options options);
    ~LoadFleet();

    void connectAll(std::function<void()> done);
    void startWork();
    void resetWindow();
    const Window& window() const { return window_; }

    int registered() const { return registered_; }
    int lost() const { return lost_; }
    int working() const { return working_; }
    // Why sessions were lost or never came up, most frequent first ("reason (count)").
    QStringList lostReasons() const;
    QString firstError() const { return firstError_; }
    const ResultTemplate& resultTemplate() const { return template_; }
    QString templateError() const { return templateError_; }
    double connectSeconds() const { return connectSeconds_; }

    // For the workers.
    const QString& knownHostsPath() const { return options_.knownHostsPath; }
    int unitsPerWorker() const { return options_.unitsPerWorker; }
    void onRegistered(SimulatedWorker& worker, int heartbeatMs);
    void onLost(SimulatedWorker& worker, SimulatedWorker::Phase was, const QString& reason);
    void onLeaseAnswered(int units, double latencyMs);
    void onResultAck(wire::ResultStatus status, const QString& reason);
    void onHeartbeatAck(double ms);
    void onError(const QString& message);
    void needTemplate(SimulatedWorker& worker, const wire::WorkUnit& unit);

private:
    void openNext();
    void tickHeartbeats();

    Options options_;
    std::vector<std::unique_ptr<SimulatedWorker>> workers_;
    int opened_ = 0;
    int settled_ = 0;  // registered or lost during the connect phase
    int registered_ = 0;
    int lost_ = 0;
    int working_ = 0;
    std::function<void()> connected_;
    QElapsedTimer connectClock_;
    double connectSeconds_ = 0.0;
    QHash<QString, int> lostReasons_;
    QString firstError_;
    QTimer heartbeatTicker_;
    int heartbeatMs_ = 0;
    std::size_t heartbeatCursor_ = 0;
    double heartbeatDebt_ = 0.0;
    ResultTemplate template_;
    QString templateError_;
    Window window_;
};

}  // namespace raven::bench
