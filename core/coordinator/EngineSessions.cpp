// Sessions: who is on each connection, and what happens when a contributor comes, registers,
// keeps in touch, falls silent or leaves.
#include <QJsonArray>
#include <QJsonObject>
#include <QSet>

#include "coordinator/Engine.h"
#include "coordinator/RequestError.h"
#include "coordinator/WireIds.h"
#include "ledger/Secrets.h"
#include "protocol/BoundedText.h"

namespace raven::coordinator {

void Engine::onConnected(ConnectionId id) {
    Session& s = sessions_[id];
    s.id = id;
    s.lastHeard = utcNow();
    s.connectedAt = s.lastHeard;
    s.peer = server_->peerAddress(id);
}

void Engine::onDisconnected(ConnectionId id) {
    try {
        metrics_->dropConnection(id);
        auto it = sessions_.find(id);
        if (it == sessions_.end()) return;
        const Session session = std::move(it->second);
        sessions_.erase(it);
        fleet_.drop(id);
        if (session.principal == Principal::Contributor && !session.lapsed) {
            releaseContributor(session, QStringLiteral("disconnected"));
            serveParkedLeases();
        }
    } catch (const std::exception& e) {
        qWarning("coordinator: cleaning up connection %llu failed: %s", static_cast<unsigned long long>(id), e.what());
    }
    retired_.clear();
}

bool Engine::contributorOnlineElsewhere(const Session& s) const {
    return fleet_.onlineElsewhere(s.principalId, s.id);
}

void Engine::refreshFleet(const Session& s) {
    if (s.principal == Principal::Contributor && !s.lapsed)
        fleet_.set(s.id, s.principalId, Scheduler::weightOf(s.gflops));
    else
        fleet_.drop(s.id);
}

void Engine::releaseContributor(const Session& s, const QString& why) {
    if (contributorOnlineElsewhere(s)) return;
    releaseSilentContributor(s, why);
}

void Engine::releaseSilentContributor(const Session& s, const QString& why) {
    const QList<ledger::ActiveLease> held = leases_->activeLeases(s.principalId);
    // Most of a large fleet holds nothing at any moment: no write transaction for those.
    if (held.isEmpty()) return;
    leases_->handBackAll(s.principalId, utcNow());
    desk_->workMayHaveAppeared();
    workersLeft(held, why);
}

void Engine::workersLeft(const QList<ledger::ActiveLease>& leases, const QString& why) {
    QMap<ledger::JobId, QSet<ledger::ContributorId>> left;
    QMap<ledger::JobId, int> units;
    for (const ledger::ActiveLease& l : leases) {
        left[l.job].insert(l.contributor);
        ++units[l.job];
    }
    for (auto it = left.begin(); it != left.end(); ++it) {
        for (const ledger::ContributorId c : it.value()) {
            jobWorkers_[it.key()].erase(c);
            metrics_->event(it.key(), wire::JOB_EVENT_KIND_WORKER_LEFT,
                            QStringLiteral("contributor %1 left (%2)").arg(c).arg(why));
        }
        metrics_->event(it.key(), wire::JOB_EVENT_KIND_WORK_REISSUED,
                        QStringLiteral("%1 work unit(s) re-issued").arg(units.value(it.key())));
    }
}

QString Engine::contributorLabel(ledger::ContributorId id) const {
    const std::optional<ledger::Contributor> c = store_->contributor(id);
    return c && !c->name.isEmpty() ? QStringLiteral("contributor %1 (%2)").arg(id).arg(protocol::quotePeer(c->name))
                                   : QStringLiteral("contributor %1").arg(id);
}

void Engine::onAuthenticate(Session& s, const wire::Envelope& e) {
    const wire::Authenticate& a = e.authenticate();
    wire::Envelope reply;
    wire::AuthResult& result = *reply.mutable_auth_result();
    std::optional<qint64> who;
    Principal kind = Principal::None;
    if (a.credential_case() == wire::Authenticate::kContributorToken) {
        who = store_->contributorByToken(QByteArray::fromStdString(a.contributor_token()));
        kind = Principal::Contributor;
    } else if (a.credential_case() == wire::Authenticate::kApiKey) {
        who = store_->requesterByApiKey(QByteArray::fromStdString(a.api_key()));
        kind = Principal::Requester;
    }
    if (!who) {
        result.set_accepted(false);
        result.set_reason(a.credential_case() == wire::Authenticate::CREDENTIAL_NOT_SET
                              ? "Authenticate carries no credential: send a contributor token or an API key"
                              : "unknown credential: this coordinator issued no such token or API key; ask its "
                                "operator for one (raven-coordinator add-contributor / add-requester)");
        answer(s.id, e.request_id(), std::move(reply));
        return;
    }
    if (s.principal == Principal::Contributor && (kind != Principal::Contributor || *who != s.principalId) && !s.lapsed)
        releaseContributor(s, QStringLiteral("authenticated as someone else"));
    s.principal = kind;
    s.principalId = *who;
    if (kind == Principal::Contributor) {
        const std::optional<ledger::Contributor> c = store_->contributor(*who);
        s.gflops = c ? c->measuredGflops : 0.0;
    }
    refreshFleet(s);
    result.set_accepted(true);
    result.set_principal_id(idText(*who));
    answer(s.id, e.request_id(), std::move(reply));
}

void Engine::onRegister(Session& s, const wire::Envelope& e) {
    const wire::RegisterContributor& r = e.register_contributor();
    QJsonArray devices;
    double gflops = 0.0;
    for (const wire::Device& d : r.devices()) {
        QJsonObject device;
        device["name"] = QString::fromStdString(d.name()).left(200);
        device["type"] = static_cast<int>(d.type());
        device["memory_bytes"] = static_cast<qint64>(std::min<std::uint64_t>(d.memory_bytes(), 1ull << 62));
        device["measured_gflops"] = d.measured_gflops();
        device["backend"] = QString::fromStdString(d.backend()).left(40);
        devices.append(device);
        if (std::isfinite(d.measured_gflops()) && d.measured_gflops() > 0) gflops += d.measured_gflops();
    }
    wire::Envelope reply;
    wire::RegisterReply& out = *reply.mutable_register_reply();
    if (s.principal == Principal::None) {
        if (!options_.openEnrollment)
            refuse(wire::ERROR_CODE_UNAUTHENTICATED, QStringLiteral("RegisterContributor before Authenticate"),
                   QStringLiteral("this coordinator admits contributors by token only: ask its operator for one "
                                  "(raven-coordinator add-contributor) and authenticate with it"));
        const QDateTime now = utcNow();
        const QString address = s.peer.isNull() ? QStringLiteral("unknown") : s.peer.toString();
        if (!enrollments_.tryAcquire(address, now))
            refuse(wire::ERROR_CODE_UNAVAILABLE,
                   QStringLiteral("%1 enrollments from %2 in the last hour, the most this coordinator allows")
                       .arg(options_.peers.enrollmentsPerAddressPerHour)
                       .arg(address),
                   QStringLiteral("reuse the token an earlier enrollment returned, or try again after %1 UTC")
                       .arg(enrollments_.nextAllowed(address, now).toString(QStringLiteral("HH:mm"))));
        const QByteArray token = ledger::newSecret();
        const QString name = r.display_name().empty() ? QStringLiteral("contributor")
                                                      : QString::fromStdString(r.display_name()).left(100);
        s.principalId = store_->addContributor(name, token, devices, gflops, utcNow());
        s.principal = Principal::Contributor;
        out.set_contributor_token(token.toStdString());
    } else {
        requireContributor(s, "RegisterContributor");
        store_->updateContributorDevices(s.principalId, devices, gflops);
    }
    s.gflops = gflops;
    refreshFleet(s);
    measureRoundTrip(s);
    // 0 declares no limit of the worker's own; either way what it holds follows what it delivers
    // (grantLeases), never what it declares.
    s.maxConcurrentLeases = static_cast<int>(std::min<std::uint32_t>(r.max_concurrent_leases(), 256));
    out.set_contributor_id(idText(s.principalId));
    out.set_heartbeat_interval_ms(static_cast<std::uint32_t>(options_.heartbeatIntervalMs));
    out.set_lease_timeout_ms(static_cast<std::uint32_t>(options_.leaseTimeoutMs));
    out.set_takes_unhashed_results(true);  // onSubmitResult's assemblers take them (docs/protocol.md)
    answer(s.id, e.request_id(), std::move(reply));
}

void Engine::measureRoundTrip(Session& s) {
    // On each of its first heartbeats (the least answer is the path's, not that of a moment either end
    // was busy: a worker just registered is starting on its first units), then once a minute.
    constexpr int kFirstPings = 4;
    const QDateTime now = utcNow();
    if (s.principal != Principal::Contributor) return;
    if (s.pings >= kFirstPings && s.pingedAt.isValid() && s.pingedAt.msecsTo(now) < 60'000) return;
    ++s.pings;
    s.pingedAt = now;
    server_->ping(s.id);
}

void Engine::onHeartbeat(Session& s, const wire::Envelope& e) {
    requireAuthenticated(s, "Heartbeat");
    measureRoundTrip(s);
    wire::Envelope reply;
    reply.mutable_heartbeat_ack()->set_server_time_ms(unixMs(utcNow()));
    answer(s.id, e.request_id(), std::move(reply));
}

}  // namespace raven::coordinator
