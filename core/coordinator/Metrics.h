#pragma once
// Metrics: what requesters watch. Every applied step publishes a MetricsUpdate (train loss, speed,
// workers; eval loss and accuracy after an evaluation) and every change worth telling a JobEvent, to
// each SubscribeMetrics stream of the job, all carrying the subscribing request's id.
//
//   metrics.subscribe(connection, requestId, job, /*history=*/true);   // replays metrics.jsonl first
//   metrics.publish(job, update);                                      // kept and streamed
//   metrics.event(job, wire::JOB_EVENT_KIND_WORK_REISSUED, "2 units re-issued");
//
// Updates are appended to jobs/<id>/metrics.jsonl and events to jobs/<id>/events.jsonl (one
// protobuf-JSON object a line), so the history survives restarts; a replay sends both in time order,
// so that a requester who opens a job late still sees who joined and when, at the right step.
#include <QString>

#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "ledger/StoreTypes.h"
#include "protocol/ProtocolServer.h"

namespace raven::coordinator {

class Metrics {
public:
    Metrics(protocol::ProtocolServer& server, QString dataDir);

    void subscribe(protocol::ConnectionId connection, std::uint64_t requestId, ledger::JobId job, bool history);
    // false when no such subscription exists on the connection.
    bool unsubscribe(protocol::ConnectionId connection, std::uint64_t subscriptionRequestId);
    void dropConnection(protocol::ConnectionId connection);

    void publish(ledger::JobId job, wire::MetricsUpdate update);
    void event(ledger::JobId job, wire::JobEventKind kind, const QString& message,
               std::optional<wire::JobState> state = std::nullopt);
    // Past updates of the job, oldest first.
    const std::vector<wire::MetricsUpdate>& history(ledger::JobId job);
    // Past events of the job, oldest first.
    const std::vector<wire::JobEvent>& eventHistory(ledger::JobId job);

private:
    struct Subscription {
        protocol::ConnectionId connection = 0;
        std::uint64_t requestId = 0;
        ledger::JobId job = 0;
        bool operator<(const Subscription& o) const {
            return std::tie(connection, requestId) < std::tie(o.connection, o.requestId);
        }
    };
    void send(ledger::JobId job, const wire::Envelope& envelope);

    protocol::ProtocolServer& server_;
    QString dataDir_;
    std::set<Subscription> subscriptions_;
    std::map<ledger::JobId, std::vector<wire::MetricsUpdate>> history_;
    std::map<ledger::JobId, std::vector<wire::JobEvent>> events_;
};

}  // namespace raven::coordinator
