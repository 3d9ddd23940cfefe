#include "coordinator/Metrics.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <google/protobuf/util/json_util.h>

#include "coordinator/JobFiles.h"
#include "coordinator/WireIds.h"
#include "protocol/BoundedText.h"

namespace raven::coordinator {

Metrics::Metrics(protocol::ProtocolServer& server, QString dataDir) : server_(server), dataDir_(std::move(dataDir)) {}

namespace {

QString eventsPath(const QString& dataDir, ledger::JobId job) {
    return QFileInfo(JobFiles(dataDir, job).metricsPath()).dir().filePath(QStringLiteral("events.jsonl"));
}

// One protobuf-JSON message a line; a line cut short by a crash is skipped: the history is for
// charts, not for the ledger.
template <typename Message>
std::vector<Message> readLines(const QString& path) {
    std::vector<Message> out;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return out;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().trimmed();
        Message m;
        if (!line.isEmpty() && google::protobuf::util::JsonStringToMessage(line.toStdString(), &m, options).ok())
            out.push_back(std::move(m));
    }
    return out;
}

void appendLine(const QString& path, const google::protobuf::Message& message) {
    std::string line;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    if (google::protobuf::util::MessageToJsonString(message, &line, options).ok()) {
        QFile file(path);
        if (file.open(QIODevice::Append)) file.write(QByteArray::fromStdString(line + "\n"));
    }
}

}  // namespace

const std::vector<wire::MetricsUpdate>& Metrics::history(ledger::JobId job) {
    auto it = history_.find(job);
    if (it != history_.end()) return it->second;
    return history_.emplace(job, readLines<wire::MetricsUpdate>(JobFiles(dataDir_, job).metricsPath())).first->second;
}

const std::vector<wire::JobEvent>& Metrics::eventHistory(ledger::JobId job) {
    auto it = events_.find(job);
    if (it != events_.end()) return it->second;
    return events_.emplace(job, readLines<wire::JobEvent>(eventsPath(dataDir_, job))).first->second;
}

void Metrics::subscribe(protocol::ConnectionId connection, std::uint64_t requestId, ledger::JobId job, bool replay) {
    if (replay) {
        // Metrics and events merged by time (an event at the same time as a step after it), so that
        // the requester places each event at the step it happened.
        const auto& updates = history(job);
        const auto& events = eventHistory(job);
        std::size_t u = 0, v = 0;
        while (u < updates.size() || v < events.size()) {
            wire::Envelope e;
            if (v >= events.size() || (u < updates.size() && updates[u].timestamp_ms() <= events[v].timestamp_ms()))
                *e.mutable_metrics_update() = updates[u++];
            else
                *e.mutable_job_event() = events[v++];
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
    appendLine(JobFiles(dataDir_, job).metricsPath(), update);
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
    eventHistory(job);  // read the file before this event joins it
    appendLine(eventsPath(dataDir_, job), ev);
    events_[job].push_back(ev);
    send(job, e);
}

}  // namespace raven::coordinator
