#include "coordinator/Metrics.h"

#include <QFile>

#include <google/protobuf/util/json_util.h>

#include "coordinator/JobFiles.h"
#include "coordinator/WireIds.h"
#include "protocol/BoundedText.h"

namespace raven::coordinator {

Metrics::Metrics(protocol::ProtocolServer& server, QString dataDir) : server_(server), dataDir_(std::move(dataDir)) {}

const std::vector<wire::MetricsUpdate>& Metrics::history(ledger::JobId job) {
    auto it = history_.find(job);
    if (it != history_.end()) return it->second;
    std::vector<wire::MetricsUpdate> updates;
    QFile file(JobFiles(dataDir_, job).metricsPath());
    if (file.open(QIODevice::ReadOnly)) {
        google::protobuf::util::JsonParseOptions options;
        options.ignore_unknown_fields = true;
        while (!file.atEnd()) {
            const QByteArray line = file.readLine().trimmed();
            wire::MetricsUpdate update;
            // A line cut short by a crash is skipped: the history is for charts, not for the ledger.
            if (!line.isEmpty() &&
                google::protobuf::util::JsonStringToMessage(line.toStdString(), &update, options).ok())
                updates.push_back(std::move(update));
        }
    }
    return history_.emplace(job, std::move(updates)).first->second;
}

void Metrics::subscribe(protocol::ConnectionId connection, std::uint64_t requestId, ledger::JobId job, bool replay) {
    if (replay) {
        for (const wire::MetricsUpdate& update : history(job)) {
            wire::Envelope e;
            *e.mutable_metrics_update() = update;
            server_.reply(connection, requestId, e);
        }
    }
    subscriptions_.insert({connection, requestId, job});
}

bool Metrics::unsubscribe(protocol::ConnectionId connection, std::uint64_t subscriptionRequestId) {
    return subscriptions_.erase({connection, subscriptionRequestId, 0}) > 0;
}

void Metrics::dropConnection(protocol::ConnectionId connection) {
    for (auto it = subscriptions_.begin(); it != subscriptions_.end();)
        it = it->connection == connection ? subscriptions_.erase(it) : std::next(it);
}

void Metrics::send(ledger::JobId job, const wire::Envelope& envelope) {
    for (const Subscription& s : subscriptions_)
        if (s.job == job) server_.reply(s.connection, s.requestId, envelope);
}

void Metrics::publish(ledger::JobId job, wire::MetricsUpdate update) {
    update.set_job_id(idText(job));
    history(job);  // read the file before this update joins it
    std::string line;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    if (google::protobuf::util::MessageToJsonString(update, &line, options).ok()) {
        QFile file(JobFiles(dataDir_, job).metricsPath());
        if (file.open(QIODevice::Append)) file.write(QByteArray::fromStdString(line + "\n"));
    }
    history_[job].push_back(update);
    wire::Envelope e;
    *e.mutable_metrics_update() = std::move(update);
    send(job, e);
}

void Metrics::event(ledger::JobId job, wire::JobEventKind kind, const QString& message,
                    std::optional<wire::JobState> state) {
    wire::Envelope e;
    wire::JobEvent& ev = *e.mutable_job_event();
    ev.set_job_id(idText(job));
    ev.set_kind(kind);
    ev.set_timestamp_ms(unixMs(utcNow()));
    if (state) ev.set_state(*state);
    ev.set_message(protocol::boundText(message).toStdString());
    send(job, e);
}

}  // namespace raven::coordinator
