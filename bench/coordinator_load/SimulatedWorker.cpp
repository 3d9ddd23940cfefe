#include "SimulatedWorker.h"

#include <QDateTime>
#include <QTimer>

#include "LoadFleet.h"
#include "protocol/Framing.h"
#include "protocol/ProtocolClient.h"

namespace raven::bench {

using protocol::ProtocolClient;

SimulatedWorker::SimulatedWorker(int index, LoadFleet& fleet) : index_(index), fleet_(fleet) {}

SimulatedWorker::~SimulatedWorker() = default;

void SimulatedWorker::open(const QUrl& url) {
    protocol::PeerInfo self{wire::ROLE_CONTRIBUTOR, {}, {}, QStringLiteral("load-%1").arg(index_)};
    client_ = std::make_unique<ProtocolClient>(ProtocolClient::Options{self, fleet_.knownHostsPath()});
    QObject::connect(client_.get(), &ProtocolClient::ready, client_.get(), [this] { onReady(); });
    QObject::connect(client_.get(), &ProtocolClient::disconnected, client_.get(),
                     [this](const QString& reason) { lose(reason); });
    QObject::connect(client_.get(), &ProtocolClient::messageReceived, client_.get(), [this](const wire::Envelope& e) {
        if (e.has_error()) fleet_.onError(QString::fromStdString(e.error().message()));
    });
    phase_ = Phase::Connecting;
    client_->open(url);
}

void SimulatedWorker::onReady() {
    phase_ = Phase::Registering;
    wire::Envelope request;
    wire::RegisterContributor& r = *request.mutable_register_contributor();
    r.set_display_name(QStringLiteral("load-%1").arg(index_).toStdString());
    wire::Device& device = *r.add_devices();
    device.set_name("simulated CPU");
    device.set_type(wire::DEVICE_TYPE_CPU);
    device.set_memory_bytes(1ull << 30);
    device.set_measured_gflops(20.0);
    device.set_backend("cpu");
    r.set_max_concurrent_leases(static_cast<std::uint32_t>(fleet_.unitsPerWorker()));
    client_->request(request, [this](const wire::Envelope& reply) {
        if (reply.has_register_reply()) {
            phase_ = Phase::Holding;
            fleet_.onRegistered(*this, static_cast<int>(reply.register_reply().heartbeat_interval_ms()));
        } else {
            lose(reply.has_error()
                     ? QString::fromStdString(reply.error().message())
                     : QStringLiteral("unexpected %1 to RegisterContributor").arg(protocol::payloadName(reply)));
        }
        return ProtocolClient::ReplyFlow::Done;
    });
}

void SimulatedWorker::heartbeat() {
    if (phase_ != Phase::Holding || !client_->isReady()) return;
    wire::Envelope request;
    request.mutable_heartbeat()->set_sent_at_ms(static_cast<std::uint64_t>(QDateTime::currentMSecsSinceEpoch()));
    QElapsedTimer sent;
    sent.start();
    client_->request(request, [this, sent](const wire::Envelope& reply) {
        if (reply.has_heartbeat_ack())
            fleet_.onHeartbeatAck(static_cast<double>(sent.nsecsElapsed()) / 1e6);
        else if (reply.has_error())
            fleet_.onError(QString::fromStdString(reply.error().message()));
        return ProtocolClient::ReplyFlow::Done;
    });
}

void SimulatedWorker::startWorking() {
    working_ = true;
    lease();
}

void SimulatedWorker::lease() {
    if (!working_ || leaseOutstanding_ || phase_ != Phase::Holding || !client_->isReady()) return;
    wire::Envelope request;
    request.mutable_lease_request()->set_max_units(static_cast<std::uint32_t>(fleet_.unitsPerWorker()));
    leaseOutstanding_ = true;
    QElapsedTimer sent;
    sent.start();
    client_->request(request, [this, sent](const wire::Envelope& reply) {
        leaseOutstanding_ = false;
        if (reply.has_lease_grant()) {
            onGrant(reply.lease_grant(), static_cast<double>(sent.nsecsElapsed()) / 1e6);
        } else if (reply.has_error()) {
            fleet_.onError(QString::fromStdString(reply.error().message()));
            QTimer::singleShot(1000, client_.get(), [this] { lease(); });
        }
        return ProtocolClient::ReplyFlow::Done;
    });
}

void SimulatedWorker::onGrant(const wire::LeaseGrant& grant, double latencyMs) {
    fleet_.onLeaseAnswered(grant.units_size(), latencyMs);
    if (grant.units_size() == 0) {
        // Nothing to lease (the step is being applied, or the coordinator holds back): ask again
        // when it says, as a worker does.
        const int retry = std::max<int>(20, static_cast<int>(grant.retry_after_ms()));
        QTimer::singleShot(retry, client_.get(), [this] { lease(); });
        return;
    }
    for (const wire::WorkUnit& unit : grant.units()) {
        if (fleet_.resultTemplate().ready()) {
            submit(unit);
        } else {
            waiting_.push_back(unit);
            fleet_.needTemplate(*this, unit);
        }
    }
    if (waiting_.empty()) lease();  // the next units are asked for once these results are sent
}

void SimulatedWorker::flushWaitingUnits() {
    std::vector<wire::WorkUnit> units;
    units.swap(waiting_);
    for (const wire::WorkUnit& unit : units) submit(unit);
    lease();
}

void SimulatedWorker::submit(const wire::WorkUnit& unit) {
    if (!client_->isReady()) return;
    const std::vector<wire::SubmitResult> parts = fleet_.resultTemplate().partsFor(unit);
    for (std::size_t i = 0; i < parts.size(); ++i) {
        wire::Envelope envelope;
        *envelope.mutable_submit_result() = parts[i];
        if (i + 1 < parts.size()) {
            client_->send(std::move(envelope));  // the coordinator answers a result's last part
            continue;
        }
        client_->request(std::move(envelope), [this](const wire::Envelope& reply) {
            if (reply.has_result_ack())
                fleet_.onResultAck(reply.result_ack().status(), QString::fromStdString(reply.result_ack().reason()));
            else if (reply.has_error())
                fleet_.onError(QString::fromStdString(reply.error().message()));
            return ProtocolClient::ReplyFlow::Done;
        });
    }
}

void SimulatedWorker::lose(const QString& reason) {
    if (phase_ == Phase::Lost) return;
    const Phase was = phase_;
    phase_ = Phase::Lost;
    working_ = false;
    fleet_.onLost(*this, was, reason);
}

}  // namespace raven::bench
