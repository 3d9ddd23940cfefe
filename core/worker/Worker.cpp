#include "worker/Worker.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHostInfo>
#include <QSaveFile>
#include <QThread>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>

#include "base/Error.h"
#include "base/Version.h"
#include "data/ShardStore.h"
#include "protocol/Framing.h"
#include "protocol/ProtocolClient.h"
#include "worker/ContentCache.h"
#include "worker/ComputeLanes.h"
#include "worker/ContentFetcher.h"
#include "worker/RecordedCompute.h"
#include "worker/UnitMemory.h"

namespace raven::worker {

// A unit the worker holds, from its lease to the coordinator's answer.
struct Worker::Unit {
    enum class Stage {
        Fetching,    // inputs arriving
        Ready,       // inputs on hand, waiting for the compute thread
        Computing,   // on the compute thread
        Encoding,    // gradient computed, being encoded on the encode thread while the next unit computes
        Computed,    // result on hand, not sent (or to be sent again after a reconnect)
        Submitting,  // sent, waiting for the ResultAck
    };
    wire::WorkUnit unit;
    QString id;
    std::uint64_t serial = 0;  // tells this lease from an earlier one of the same unit
    Stage stage = Stage::Fetching;
    int missing = 0;  // inputs still to arrive
    std::shared_ptr<const data::Manifest> manifest;
    std::vector<std::shared_ptr<const DecodedShard>> shards;
    std::shared_ptr<const QByteArray> weights;
    std::optional<ComputedUnit> result;
};

namespace {

int clampMs(std::uint64_t value, int low, int high, int fallback) {
    if (value == 0) return fallback;
    return static_cast<int>(
        std::clamp<std::uint64_t>(value, static_cast<std::uint64_t>(low), static_cast<std::uint64_t>(high)));
}

QString seconds(int ms) { return QString::number(ms / 1000.0, 'f', 1) + QStringLiteral(" s"); }

}  // namespace

Worker::Worker(WorkerOptions options, QObject* parent) : QObject(parent), options_(std::move(options)) {
    options_.maxConcurrentLeases = std::max(1, options_.maxConcurrentLeases);
    buffer_ = WorkBuffer(options_.workBufferLow > 0 ? options_.workBufferLow : options_.maxConcurrentLeases,
                         options_.maxConcurrentLeases);
    if (options_.displayName.isEmpty())
        options_.displayName = QStringLiteral("raven-worker on %1").arg(QHostInfo::localHostName());
    // Recording and replaying keep one stream of units (RecordedCompute.h is not shared by lanes).
    const bool recording = !options_.recordDir.isEmpty() || !options_.replayDir.isEmpty();
    const LanePlan lanes = ComputeLanes::plan(recording ? 1 : options_.computeLanes, options_.device, options_.threads,
                                              QThread::idealThreadCount(), options_.maxConcurrentLeases);
    computePool_.setMaxThreadCount(lanes.lanes);
    computePool_.setExpiryTimeout(-1);  // a thread per lane for the worker's life: the device belongs to them
    encodePool_.setMaxThreadCount(1);   // results leave in the order they were computed
    for (int i = 0; i < lanes.lanes; ++i) {
        lanes_.push_back(std::make_unique<UnitComputer>(options_.device, lanes.threadsOfLane(i)));
        lanes_.back()->setDutyCycle(&duty_);
    }
    laneBusy_.assign(lanes_.size(), false);

    protocol::PeerInfo self{wire::ROLE_CONTRIBUTOR, {}, {}, options_.displayName};
    client_ = new protocol::ProtocolClient({self, options_.knownHostsPath}, this);
    connect(client_, &protocol::ProtocolClient::ready, this, &Worker::onReady);
    connect(client_, &protocol::ProtocolClient::disconnected, this, &Worker::onDisconnected);
    connect(client_, &protocol::ProtocolClient::refused, this, &Worker::giveUp);

    reconnectTimer_.setSingleShot(true);
    connect(&reconnectTimer_, &QTimer::timeout, this, &Worker::connectNow);
    connect(&heartbeatTimer_, &QTimer::timeout, this, &Worker::sendHeartbeat);
    leaseRetryTimer_.setSingleShot(true);
    connect(&leaseRetryTimer_, &QTimer::timeout, this, &Worker::leaseMore);
    stopGraceTimer_.setSingleShot(true);
    connect(&stopGraceTimer_, &QTimer::timeout, this, &Worker::onStopGraceOver);
    restTimer_.setSingleShot(true);
    connect(&restTimer_, &QTimer::timeout, this, [this] {
        if (!isStopping(phase_)) maybeCompute();
    });
    closeFallbackTimer_.setSingleShot(true);
    connect(&closeFallbackTimer_, &QTimer::timeout, this, &Worker::finish);
}

Worker::~Worker() {
    // The client's pending handlers point into the fetcher and this object: it goes first, silently.
    client_->disconnect(this);
    delete client_;
    client_ = nullptr;
    duty_.cancelRests();
    computePool_.waitForDone();  // the compute threads may still use lanes_
    encodePool_.waitForDone();
}

// --- session ----------------------------------------------------------------------------------------

void Worker::enter(WorkerPhase next) {
    if (next == phase_) return;
    const WorkerPhase from = phase_;
    if (!canMove(from, next))  // a bug here, not a reason to stop contributing: said, and moved on
        qWarning("raven-worker: unexpected phase change %s -> %s", qPrintable(nameOf(from)), qPrintable(nameOf(next)));
    phase_ = next;
    emit phaseChanged(from, next);
}

void Worker::start() {
    if (phase_ != WorkerPhase::Idle) return;
    try {
        if (!options_.cacheDir.isEmpty())
            cache_ = std::make_unique<ContentCache>(options_.cacheDir, options_.cacheBytes);
        if (!options_.recordDir.isEmpty() || !options_.replayDir.isEmpty())
            recorded_ = std::make_unique<RecordedCompute>(
                options_.replayDir.isEmpty() ? RecordedCompute::Mode::Record : RecordedCompute::Mode::Replay,
                options_.replayDir.isEmpty() ? options_.recordDir : options_.replayDir);
#ifdef RAVEN_HOSTILE_WORKER
        if (!options_.hostile.kind.isEmpty()) hostile_ = std::make_unique<HostileCompute>(options_.hostile);
#endif
    } catch (const Error& e) {
        giveUp(QString::fromStdString(e.what()));
        return;
    }
    if (cache_) {
        // After a restart no cached version is known to be current: weights go first when room is needed.
        for (const QString& name : cache_->names(QStringLiteral("weights/")))
            cache_->setRetention(name, ContentCache::Retention::EvictFirst);
    }
    try {
        fetcher_ = std::make_unique<ContentFetcher>(cache_.get(), options_.shardMemoryBytes);
    } catch (const Error& e) {
        giveUp(QString::fromStdString(e.what()));
        return;
    }
    fetcher_->setClient(client_);
    fetcher_->setWarning([this](const QString& warning) { emit statusMessage(warning); });

    token_ = options_.token.trimmed();
    if (token_.isEmpty() && !options_.tokenFile.isEmpty()) {
        QFile file(options_.tokenFile);
        if (file.open(QIODevice::ReadOnly)) token_ = QString::fromUtf8(file.readAll()).trimmed();
    }
    if (token_.isEmpty() && !options_.enroll) {
        giveUp(
            QStringLiteral("no contributor token: pass the token the coordinator's operator gave you (--token), "
                           "or --enroll with --token-file to join a coordinator with open enrollment"));
        return;
    }
    if (options_.coordinator.scheme() != QLatin1String("wss") || options_.coordinator.host().isEmpty()) {
        giveUp(QStringLiteral("coordinator URL '%1' is not wss://host:port: Raven talks to coordinators over TLS only")
                   .arg(options_.coordinator.toString()));
        return;
    }

    // The device opens and measures itself on the compute thread while the connection is made.
    auto* watcher = new QFutureWatcher<DeviceReport>(this);
    connect(watcher, &QFutureWatcher<DeviceReport>::finished, this, [this, watcher] {
        const DeviceReport report = watcher->result();
        watcher->deleteLater();
        onDeviceReady(report);
    });
    UnitComputer* computer = lanes_.front().get();  // the other lanes open with their first unit
    watcher->setFuture(QtConcurrent::run(&computePool_, [computer] { return computer->open(); }));
    connectNow();
}

void Worker::onDeviceReady(const DeviceReport& report) {
    if (!report.error.isEmpty()) {
        giveUp(QStringLiteral("cannot compute on this machine: %1").arg(report.error));
        return;
    }
    if (!report.note.isEmpty()) emit statusMessage(report.note);
    device_ = report.device;
    deviceSummary_ = report.summary;
    if (lanes_.size() > 1) {
        // One lane was measured, with its share of the threads: the worker computes lanes_.size() at once.
        device_->set_measured_gflops(report.device.measured_gflops() * static_cast<double>(lanes_.size()));
        deviceSummary_ += QStringLiteral(", %1 units side by side").arg(lanes_.size());
    }
    emit statusMessage(QStringLiteral("computing on %1, %2 GFLOP/s measured")
                           .arg(report.summary)
                           .arg(report.device.measured_gflops(), 0, 'f', 1));
    if (phase_ == WorkerPhase::AwaitingDevice) registerContributor();
}

void Worker::connectNow() {
    if (isStopping(phase_)) return;
    try {
        client_->open(options_.coordinator);  // its signals come later, from the event loop
        enter(WorkerPhase::Connecting);
    } catch (const Error& e) {
        giveUp(QString::fromStdString(e.what()));  // nothing opened: stops at once
    }
}

bool Worker::isConnectionError(const wire::Envelope& reply) const {
    // ProtocolClient fails pending requests with UNAVAILABLE when the connection ends; the
    // disconnection handler deals with everything then.
    return reply.has_error() && !client_->isReady();
}

void Worker::onReady() {
    if (isStopping(phase_)) {
        client_->close();
        return;
    }
    if (token_.isEmpty())
        registerContributor();  // open enrollment: registering without a token creates the contributor
    else
        authenticate();
}

void Worker::authenticate() {
    enter(WorkerPhase::Authenticating);
    wire::Envelope request;
    request.mutable_authenticate()->set_contributor_token(token_.toStdString());
    client_->request(request, [this](const wire::Envelope& reply) {
        if (isConnectionError(reply)) return protocol::ProtocolClient::ReplyFlow::Done;
        if (reply.has_auth_result() && reply.auth_result().accepted()) {
            contributorId_ = QString::fromStdString(reply.auth_result().principal_id());
            registerContributor();
        } else if (reply.has_auth_result() ||
                   (reply.has_error() && (reply.error().code() == wire::ERROR_CODE_UNAUTHENTICATED ||
                                          reply.error().code() == wire::ERROR_CODE_PERMISSION_DENIED))) {
            const std::string why = reply.has_auth_result() ? reply.auth_result().reason() : reply.error().message();
            giveUp(QStringLiteral("the coordinator at %1 refused the contributor token (%2): check --token, or ask its "
                                  "operator for a new one")
                       .arg(options_.coordinator.toString(), QString::fromStdString(why)));
        } else {
            emit statusMessage(QStringLiteral("authentication failed: %1; reconnecting")
                                   .arg(reply.has_error() ? QString::fromStdString(reply.error().message())
                                                          : protocol::payloadName(reply)));
            client_->close();
        }
        return protocol::ProtocolClient::ReplyFlow::Done;
    });
}

void Worker::registerContributor() {
    if (!device_) {
        enter(WorkerPhase::AwaitingDevice);  // onDeviceReady() registers
        return;
    }
    if (!client_->isReady()) return;  // disconnected() follows
    enter(WorkerPhase::Registering);
    const bool enrolling = token_.isEmpty();
    wire::Envelope request;
    wire::RegisterContributor* r = request.mutable_register_contributor();
    r->set_display_name(options_.displayName.toStdString());
    *r->add_devices() = *device_;
    r->set_cache_bytes(cache_ ? static_cast<std::uint64_t>(cache_->maxBytes()) : 0);
    r->set_max_concurrent_leases(static_cast<std::uint32_t>(options_.maxConcurrentLeases));
    client_->request(request, [this, enrolling](const wire::Envelope& reply) {
        if (isConnectionError(reply)) return protocol::ProtocolClient::ReplyFlow::Done;
        if (reply.has_register_reply()) {
            onRegistered(reply.register_reply());
        } else if (reply.has_error() && reply.error().code() == wire::ERROR_CODE_UNAUTHENTICATED) {
            giveUp(enrolling
                       ? QStringLiteral("the coordinator at %1 does not admit new contributors by themselves "
                                        "(no open enrollment): ask its operator for a token and pass --token")
                             .arg(options_.coordinator.toString())
                       : QStringLiteral("the coordinator at %1 refused to register this contributor: %2")
                             .arg(options_.coordinator.toString(), QString::fromStdString(reply.error().message())));
        } else {
            emit statusMessage(QStringLiteral("registration failed: %1; reconnecting")
                                   .arg(reply.has_error() ? QString::fromStdString(reply.error().message())
                                                          : protocol::payloadName(reply)));
            client_->close();
        }
        return protocol::ProtocolClient::ReplyFlow::Done;
    });
}

void Worker::saveToken(const QString& token) {
    if (options_.tokenFile.isEmpty()) {
        emit statusMessage(QStringLiteral("enrolled; no --token-file to keep the token in, so note it: %1").arg(token));
        return;
    }
    QDir().mkpath(QFileInfo(options_.tokenFile).absolutePath());
    QSaveFile file(options_.tokenFile);
    // Owner-only before the token is written, so that it is never readable by others, not even briefly.
    const bool opened =
        file.open(QIODevice::WriteOnly) && file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    if (opened && file.write(token.toUtf8() + '\n') >= 0 && file.commit()) {
        QFile::setPermissions(options_.tokenFile, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
        emit statusMessage(QStringLiteral("enrolled; the contributor token is saved in %1").arg(options_.tokenFile));
    } else {
        // The credits earned belong to this token: a person must be able to find it again.
        emit statusMessage(QStringLiteral("enrolled, but the token could not be saved in %1 (%2); note it: %3")
                               .arg(options_.tokenFile, file.errorString(), token));
    }
}

void Worker::onRegistered(const wire::RegisterReply& reply) {
    contributorId_ = QString::fromStdString(reply.contributor_id());
    coordinatorTakesUnhashedResults_ = reply.takes_unhashed_results();
    if (!reply.contributor_token().empty()) {
        token_ = QString::fromStdString(reply.contributor_token());
        saveToken(token_);
    }
    heartbeatIntervalMs_ = clampMs(reply.heartbeat_interval_ms(), 50, 60000, 2000);
    leaseTimeoutMs_ = std::max(clampMs(reply.lease_timeout_ms(), 200, 600000, 10000), 2 * heartbeatIntervalMs_);
    if (isStopping(phase_)) {
        // stop() or a refusal came while registering: the connection is closing, and that is all.
        client_->close();
        return;
    }
    enter(WorkerPhase::Registered);
    backoff_.reset();
    emit statusMessage(
        QStringLiteral("registered with %1 as contributor %2").arg(options_.coordinator.toString(), contributorId_));
    emit connected(contributorId_);

    sinceHeartbeatAck_.start();
    heartbeatTimer_.start(heartbeatIntervalMs_);
    sendHeartbeat();
    if (!handBackLater_.isEmpty()) {
        const QStringList ids = std::exchange(handBackLater_, {});
        handBack(ids, QStringLiteral("worker reconnected before these units' inputs arrived"));
    }
    std::vector<Unit*> unsent;  // collected first: a failed send drops its unit from units_
    for (auto& [id, unit] : units_)
        if (unit->stage == Unit::Stage::Computed) unsent.push_back(unit.get());
    for (Unit* unit : unsent) submit(*unit);
    leaseMore();
}

void Worker::onDisconnected(const QString& reason) {
    const bool wasRegistered = phase_ == WorkerPhase::Registered;
    leaseOutstanding_ = false;
    pendingHandBacks_ = 0;
    heartbeatTimer_.stop();
    leaseRetryTimer_.stop();
    closeFallbackTimer_.stop();
    // Units still gathering inputs are given back once a session is up again; results survive.
    QStringList dropped;
    for (auto it = units_.begin(); it != units_.end();) {
        Unit& unit = *it->second;
        if (unit.stage == Unit::Stage::Fetching || unit.stage == Unit::Stage::Ready) {
            dropped.append(unit.id);
            it = units_.erase(it);
            continue;
        }
        if (unit.stage == Unit::Stage::Submitting) unit.stage = Unit::Stage::Computed;
        ++it;
    }
    if (isStopping(phase_)) {
        finish();
        return;
    }
    enter(WorkerPhase::Reconnecting);  // the next session registers after its own authentication
    handBackLater_.append(dropped);
    const int delay = backoff_.nextDelayMs();
    emit statusMessage(
        QStringLiteral("%1 %2: %3; retrying in %4 (attempt %5)")
            .arg(wasRegistered ? QStringLiteral("lost the connection to") : QStringLiteral("cannot reach"),
                 options_.coordinator.toString(), reason, seconds(delay))
            .arg(backoff_.attempts()));
    reconnectTimer_.start(delay);
}

void Worker::sendHeartbeat() {
    // Draining counts: the coordinator must not take a worker finishing its last unit for gone.
    if (!worker::isRegistered(phase_) || !client_->isReady()) return;
    if (sinceHeartbeatAck_.elapsed() > leaseTimeoutMs_) {
        emit statusMessage(QStringLiteral("the coordinator has not answered a heartbeat for %1; reconnecting")
                               .arg(seconds(static_cast<int>(sinceHeartbeatAck_.elapsed()))));
        client_->close();
        return;
    }
    wire::Envelope request;
    wire::Heartbeat* h = request.mutable_heartbeat();
    h->set_sent_at_ms(static_cast<std::uint64_t>(QDateTime::currentMSecsSinceEpoch()));
    for (const auto& [id, unit] : units_) h->add_active_work_unit_ids(id.toStdString());
    client_->request(request, [this](const wire::Envelope& reply) {
        if (reply.has_heartbeat_ack()) sinceHeartbeatAck_.start();
        return protocol::ProtocolClient::ReplyFlow::Done;
    });
}

// --- leasing ----------------------------------------------------------------------------------------

void Worker::noteFetches() {
    stats_.bytesReceived = fetcher_->bytesReceived();
    stats_.weightsFetched = fetcher_->weightsFetched();
    stats_.weightsPushed = fetcher_->weightsPushed();
    stats_.weightsDeltas = fetcher_->weightsDeltasApplied();
    stats_.weightsDeltasRefused = fetcher_->weightsDeltasRefused();
    stats_.wholeWeightsBytes = fetcher_->wholeWeightsBytes();
    stats_.weightsDeltaBytes = fetcher_->weightsDeltaBytes();
}

void Worker::leaseMore() {
    if (phase_ != WorkerPhase::Registered || !client_->isReady() || leaseOutstanding_ || leaseRetryTimer_.isActive())
        return;
    // Work is asked for ahead (WorkBuffer.h): units computed no longer count, so the next ones are
    // leased, and their inputs arrive, while this one computes and its result travels.
    int onHand = 0;
    for (const auto& [id, unit] : units_) onHand += unit->stage <= Unit::Stage::Computing ? 1 : 0;
    const int room = buffer_.toRequest(onHand);
    if (room <= 0) return;
    wire::Envelope request;
    wire::LeaseRequest& ask = *request.mutable_lease_request();
    ask.set_max_units(static_cast<std::uint32_t>(room));
    if (options_.weightsWithGrant) {
        // The weights of the units granted come with the grant, unless they are held here already.
        ask.set_push_weights(true);
        ask.set_accept_zstd(true);
        ask.set_accept_unhashed_weights(true);  // they come whole on the coordinator's TLS stream
        for (const auto& [job, version] : fetcher_->weightsHeld()) {
            wire::WeightsHeld& held = *ask.add_held_weights();
            held.set_job_id(job.toStdString());
            held.set_model_version(version);
        }
    }
    leaseOutstanding_ = true;
    client_->request(request, [this](const wire::Envelope& reply) {
        if (isConnectionError(reply)) return protocol::ProtocolClient::ReplyFlow::Done;
        leaseOutstanding_ = false;
        if (reply.has_lease_grant()) {
            const wire::LeaseGrant& grant = reply.lease_grant();
            for (const QString& problem : fetcher_->takePushedWeights(grant)) emit statusMessage(problem);
            for (const wire::WorkUnit& unit : grant.units()) acceptUnit(unit);
            prefetch(grant);
            if (isStopping(phase_))
                checkStopDone();
            else if (grant.units_size() == 0)
                leaseRetryTimer_.start(clampMs(grant.retry_after_ms(), 20, 60000, 1000));
            else
                leaseMore();
        } else {
            emit statusMessage(QStringLiteral("no work leased: %1")
                                   .arg(reply.has_error() ? QString::fromStdString(reply.error().message())
                                                          : protocol::payloadName(reply)));
            if (!isStopping(phase_)) leaseRetryTimer_.start(2000);
            checkStopDone();
        }
        return protocol::ProtocolClient::ReplyFlow::Done;
    });
}

void Worker::prefetch(const wire::LeaseGrant& grant) {
    // The shards of the next step this worker will probably be given (the coordinator's
    // PrefetchHints.h), fetched and decoded now, while it computes: when their grant comes they are in
    // memory. A wrong guess costs one transfer of shards the job needs anyway; a refused one, nothing.
    constexpr int kMaxHints = 256;
    int taken = 0;
    for (const std::string& hint : grant.prefetch_shards()) {
        if (++taken > kMaxHints) break;
        const QString hash = QString::fromStdString(hint);
        if (!data::ShardStore::isShardName(hash) || fetcher_->decodedShards().contains(hash)) continue;
        fetcher_->fetchDecodedShard(hash, [this](const FetchResult& r) {
            if (r.ok) ++stats_.shardsPrefetched;
        });
    }
}

void Worker::acceptUnit(const wire::WorkUnit& leased) {
    const QString id = QString::fromStdString(leased.id());
    if (id.isEmpty() || units_.count(id)) return;  // a lease extended, not a new unit
    if (isStopping(phase_)) {
        handBack({id}, QStringLiteral("worker shutting down"));
        return;
    }
    QString problem;
    if (leased.job_id().empty() || leased.dataset_id().empty() || leased.shard_hashes_size() == 0)
        problem = QStringLiteral("it names no job, dataset or shards");
    for (const std::string& hash : leased.shard_hashes())
        if (!data::ShardStore::isShardName(QString::fromStdString(hash)))
            problem = QStringLiteral("'%1' is not a shard name").arg(QString::fromStdString(hash).left(80));
    if (const auto refused = refusedHere_.constFind(id); refused != refusedHere_.constEnd()) {
        handBack({id}, *refused);
        if (!leaseRetryTimer_.isActive()) leaseRetryTimer_.start(2000);
        return;
    }
    if (computeFailures_.value(id) >= kMaxComputeFailures) {
        emit statusMessage(
            QStringLiteral("work unit %1 failed to compute here %2 times: handed back without trying again")
                .arg(id)
                .arg(computeFailures_.value(id)));
        handBack({id}, QStringLiteral("failed to compute on this worker %1 times").arg(computeFailures_.value(id)),
                 true);
        if (!leaseRetryTimer_.isActive()) leaseRetryTimer_.start(2000);
        return;
    }
    if (!problem.isEmpty()) {
        emit statusMessage(QStringLiteral("work unit %1 is malformed (%2): handed back").arg(id, problem));
        handBack({id}, QStringLiteral("malformed work unit: %1").arg(problem), true);
        return;
    }

    auto owned = std::make_unique<Unit>();
    Unit& unit = *owned;
    unit.unit = leased;
    unit.id = id;
    unit.serial = nextSerial_++;
    unit.shards.resize(static_cast<std::size_t>(leased.shard_hashes_size()));
    unit.missing = leased.shard_hashes_size() + 2;  // the shards, the manifest and the weights
    units_[id] = std::move(owned);
    const std::uint64_t serial = unit.serial;
    timeline_.stamp(serial, UnitTimeline::Stage::Granted);

    // Each input's arrival finds its unit again by id and serial: the unit may be gone meanwhile.
    auto find = [this](const QString& unitId, std::uint64_t s) -> Unit* {
        auto it = units_.find(unitId);
        return it != units_.end() && it->second->serial == s && it->second->stage == Unit::Stage::Fetching
                   ? it->second.get()
                   : nullptr;
    };
    auto failed = [this, id](const FetchResult& r, const QString& what) {
        if (!client_->isReady() && r.code == wire::ERROR_CODE_UNAVAILABLE) return;  // reconnect deals with it
        dropUnit(id, QStringLiteral("cannot get %1: %2").arg(what, r.message), true);
    };

    const QString datasetId = QString::fromStdString(leased.dataset_id());
    if (auto known = manifests_.find(datasetId); known != manifests_.end()) {
        unit.manifest = *known;
        --unit.missing;
    } else {
        fetcher_->fetchManifest(datasetId, [this, id, serial, datasetId, find, failed](const FetchResult& r) {
            Unit* u = find(id, serial);
            if (!u) return;
            if (!r.ok) return failed(r, QStringLiteral("the manifest of dataset %1").arg(datasetId.left(8)));
            try {
                auto manifest = std::make_shared<const data::Manifest>(
                    data::Manifest::fromBytes(*r.bytes, "manifest of dataset " + datasetId.toStdString()));
                if (manifests_.size() >= 8) manifests_.clear();  // a few datasets at a time, at most
                manifests_.insert(datasetId, manifest);
                u->manifest = std::move(manifest);
            } catch (const Error& e) {
                dropUnit(id, QString::fromStdString(e.message()), true, true);
                return;
            }
            inputArrived(id, serial);
        });
    }
    for (int i = 0; i < leased.shard_hashes_size(); ++i) {
        const QString hash = QString::fromStdString(leased.shard_hashes(i));
        ++(fetcher_->decodedShards().contains(hash) ? stats_.shardsInMemoryAtGrant : stats_.shardsAfterGrant);
        fetcher_->fetchDecodedShard(hash, [this, id, serial, i, hash, find, failed](const FetchResult& r) {
            Unit* u = find(id, serial);
            if (!u) return;
            if (r.undecodable) return dropUnit(id, QStringLiteral("cannot compute it: %1").arg(r.message), true, true);
            if (!r.ok) return failed(r, QStringLiteral("shard %1...").arg(hash.left(8)));
            u->shards[static_cast<std::size_t>(i)] = r.shard;
            inputArrived(id, serial);
        });
    }
    const QString job = QString::fromStdString(leased.job_id());
    const std::uint64_t version = leased.model_version();
    fetcher_->fetchWeights(job, version, [this, id, serial, job, version, find, failed](const FetchResult& r) {
        Unit* u = find(id, serial);
        if (!u) return;
        if (!r.ok && r.code == wire::ERROR_CODE_NOT_FOUND) {
            // The job has moved past this version (or ended): the unit is stale, and nobody waits for it.
            dropUnit(id, QStringLiteral("stale: version %1 of job %2 is no longer served").arg(version).arg(job),
                     false);
            return;
        }
        if (!r.ok) return failed(r, QStringLiteral("the weights of job %1 version %2").arg(job).arg(version));
        u->weights = r.bytes;
        inputArrived(id, serial);
    });
}

void Worker::inputArrived(const QString& id, std::uint64_t serial) {
    auto it = units_.find(id);
    if (it == units_.end() || it->second->serial != serial) return;
    Unit& unit = *it->second;
    if (unit.stage != Unit::Stage::Fetching) return;
    noteFetches();
    if (unit.missing > 0) --unit.missing;
    if (unit.missing > 0) return;
    unit.stage = Unit::Stage::Ready;
    timeline_.stamp(serial, UnitTimeline::Stage::Ready);
    maybeCompute();
}

void Worker::dropUnit(const QString& id, const QString& why, bool giveBack, bool couldNotCompute) {
    auto it = units_.find(id);
    if (it == units_.end()) return;
    timeline_.forget(it->second->serial);
    units_.erase(it);
    emit statusMessage(QStringLiteral("work unit %1 %2: %3").arg(id, giveBack ? "handed back" : "dropped", why));
    if (giveBack) handBack({id}, why.left(500), couldNotCompute);
    checkStopDone();
    // A unit that failed may well be leased to this worker again at once: pause a moment first, so
    // that a broken job or dataset does not become a busy loop.
    if (giveBack && !isStopping(phase_) && !leaseRetryTimer_.isActive()) leaseRetryTimer_.start(1000);
    leaseMore();
}

void Worker::handBack(const QStringList& ids, const QString& reason, bool couldNotCompute) {
    if (ids.isEmpty()) return;
    if (!worker::isRegistered(phase_) || !client_->isReady()) {
        handBackLater_.append(ids);
        return;
    }
    wire::Envelope request;
    wire::LeaseHandBack* h = request.mutable_lease_hand_back();
    for (const QString& id : ids) h->add_work_unit_ids(id.toStdString());
    h->set_reason(reason.toStdString());
    h->set_could_not_compute(couldNotCompute);
    ++pendingHandBacks_;
    client_->request(request, [this](const wire::Envelope& reply) {
        if (isConnectionError(reply)) return protocol::ProtocolClient::ReplyFlow::Done;
        pendingHandBacks_ = std::max(0, pendingHandBacks_ - 1);
        if (reply.has_error())
            emit statusMessage(
                QStringLiteral("handing back work units: %1").arg(QString::fromStdString(reply.error().message())));
        checkStopDone();
        return protocol::ProtocolClient::ReplyFlow::Done;
    });
}

// --- computing and submitting -----------------------------------------------------------------------

void Worker::setDutyCycle(int percent) {
    dutyCyclePercent_ = std::clamp(percent, 1, 100);
    duty_.setPercent(dutyCyclePercent_);
    if (dutyCyclePercent_ == 100 && restTimer_.isActive()) {
        restTimer_.stop();
        if (!isStopping(phase_)) maybeCompute();
    }
}

void Worker::maybeCompute() {
    if (restTimer_.isActive()) return;
    // Under a duty cycle below 100 % the lanes take turns: its rests are timed for one stream of work.
    const auto busy = static_cast<std::size_t>(std::count(laneBusy_.begin(), laneBusy_.end(), true));
    if (busy >= (dutyCyclePercent_ < 100 ? std::size_t(1) : lanes_.size())) return;
    const int lane = static_cast<int>(std::find(laneBusy_.begin(), laneBusy_.end(), false) - laneBusy_.begin());
    Unit* next = nullptr;
    for (auto& [id, unit] : units_)
        if (unit->stage == Unit::Stage::Ready && (!next || unit->serial < next->serial)) next = unit.get();
    if (!next) return;
    if (options_.maxUnitBytes > 0 && next->manifest) {
        const std::int64_t need = unitMemoryBytes(next->unit, *next->manifest);
        if (need > options_.maxUnitBytes) {
            const QString id = next->id;
            const QString why = QStringLiteral("needs about %1 MB of memory, above the memory cap of %2 MB")
                                    .arg((need + 999999) / 1000000)
                                    .arg(options_.maxUnitBytes / 1000000);
            if (refusedHere_.size() > 1000) refusedHere_.clear();  // bounded
            refusedHere_.insert(id, why);  // if leased again: handed back before fetching
            emit unitRefused(id, why);
            dropUnit(id, why, true);
            return maybeCompute();
        }
    }
    if (recorded_ && !recorded_->has(next->unit)) {  // replaying: this worker's limit, not the unit's fault
        const QString id = next->id;
        const QString why = recorded_->missingReason(next->unit);
        if (refusedHere_.size() > 1000) refusedHere_.clear();
        refusedHere_.insert(id, why);
        emit unitRefused(id, why);
        dropUnit(id, why, true);
        return maybeCompute();
    }
    next->stage = Unit::Stage::Computing;
    timeline_.stamp(next->serial, UnitTimeline::Stage::ComputeStarted);
    laneBusy_[static_cast<std::size_t>(lane)] = true;
    UnitInputs inputs;
    inputs.unit = next->unit;
    inputs.manifest = next->manifest;
    inputs.shards = std::move(next->shards);
    inputs.weights = std::move(next->weights);
    next->shards.clear();

    const QString id = next->id;
    const std::uint64_t serial = next->serial;
    emit computeStarted(id, QString::fromStdString(next->unit.job_id()));
    UnitComputer* computer = lanes_[static_cast<std::size_t>(lane)].get();
    DutyCycle* duty = &duty_;
    if (RecordedCompute* recorded = recorded_.get()) {
        // Recording keeps, and replaying sends, the encoded parts: one stage on the compute thread.
        auto* watcher = new QFutureWatcher<ComputedUnit>(this);
        connect(watcher, &QFutureWatcher<ComputedUnit>::finished, this, [this, watcher, id, serial, lane] {
            ComputedUnit result = watcher->future().takeResult();  // moved out, not copied
            watcher->deleteLater();
            timeline_.stamp(serial, UnitTimeline::Stage::ComputeEnded);
            computeFinished(lane, id, result.seconds);
            resultReady(id, serial, std::move(result), static_cast<int>(Unit::Stage::Computing));
        });
        watcher->setFuture(QtConcurrent::run(&computePool_, [computer, recorded, duty, in = std::move(inputs)] {
            duty->workBegan();
            ComputedUnit done = recorded->compute(*computer, in);
            duty->workEnded();
            return done;
        }));
        return;
    }
    auto* watcher = new QFutureWatcher<ComputedGradient>(this);
    connect(watcher, &QFutureWatcher<ComputedGradient>::finished, this, [this, watcher, id, serial, lane] {
        ComputedGradient gradient = watcher->future().takeResult();  // moved out, not copied
        watcher->deleteLater();
        onGradient(lane, id, serial, std::move(gradient));
    });
    watcher->setFuture(QtConcurrent::run(&computePool_, [computer, duty, in = std::move(inputs)] {
        duty->workBegan();
        ComputedGradient done = computer->computeGradient(in);
        duty->workEnded();
        return done;
    }));
    maybeCompute();  // another lane may be free, and another unit ready
}

void Worker::computeFinished(int lane, const QString& id, double seconds) {
    laneBusy_[static_cast<std::size_t>(lane)] = false;
    emit computeEnded(id, seconds);
    // The rest that keeps the busy share at the cap, the waits for data since the last rest counted in.
    if (const auto rest = duty_.restDue(); dutyCyclePercent_ < 100 && rest.count() > 0)
        restTimer_.start(static_cast<int>(rest.count()));
}

void Worker::onGradient(int lane, const QString& id, std::uint64_t serial, ComputedGradient gradient) {
    timeline_.stamp(serial, UnitTimeline::Stage::ComputeEnded);
    computeFinished(lane, id, gradient.unit.seconds);
    auto it = units_.find(id);
    const bool held = it != units_.end() && it->second->serial == serial && it->second->stage == Unit::Stage::Computing;
    if (!held || !gradient.unit.error.isEmpty()) {
        resultReady(id, serial, std::move(gradient.unit), static_cast<int>(Unit::Stage::Computing));
        return;
    }
    // The result is encoded, compressed and sent while the next unit computes: the compute thread
    // waits for neither, and this thread for no arithmetic.
    it->second->stage = Unit::Stage::Encoding;
    gradient.hashed = !coordinatorTakesUnhashedResults_;
    auto* watcher = new QFutureWatcher<ComputedUnit>(this);
    connect(watcher, &QFutureWatcher<ComputedUnit>::finished, this, [this, watcher, id, serial] {
        ComputedUnit result = watcher->future().takeResult();  // moved out, not copied
        watcher->deleteLater();
        resultReady(id, serial, std::move(result), static_cast<int>(Unit::Stage::Encoding));
    });
#ifdef RAVEN_HOSTILE_WORKER
    // Test beds only: the result is rewritten after its honest encoding, before it is sent. The
    // encoding pool has one thread, so the cheater's memory of past units is touched by one at a time.
    if (HostileCompute* hostile = hostile_.get()) {
        watcher->setFuture(QtConcurrent::run(
            &encodePool_, [hostile, unit = it->second->unit, g = std::move(gradient)]() mutable {
                ComputedUnit done = encodeResult(std::move(g));
                hostile->tamper(unit, done);
                return done;
            }));
        if (!isStopping(phase_)) maybeCompute();
        return;
    }
#endif
    watcher->setFuture(
        QtConcurrent::run(&encodePool_, [g = std::move(gradient)]() mutable { return encodeResult(std::move(g)); }));
    if (!isStopping(phase_)) maybeCompute();
}

void Worker::resultReady(const QString& id, std::uint64_t serial, ComputedUnit result, int expectedStage) {
    auto it = units_.find(id);
    if (it != units_.end() && it->second->serial == serial && static_cast<int>(it->second->stage) == expectedStage) {
        Unit& unit = *it->second;
        if (!result.error.isEmpty()) {
            if (computeFailures_.size() > 1000) computeFailures_.clear();  // bounded
            ++computeFailures_[id];
            emit computeFailed(id, result.error);
            dropUnit(id, QStringLiteral("cannot compute it: %1").arg(result.error), true, true);
        } else {
            stats_.samples += result.samples;
            stats_.flops += result.flops;
            timeline_.stamp(serial, UnitTimeline::Stage::Encoded);
            unit.result = std::move(result);
            unit.stage = Unit::Stage::Computed;
            if (worker::isRegistered(phase_)) submit(unit);  // otherwise after the next registration
        }
    }
    if (!isStopping(phase_)) maybeCompute();
    checkStopDone();
}

void Worker::submit(Unit& unit) {
    RAVEN_ASSERT(unit.result && !unit.result->parts.empty(), "a computed unit has SubmitResult parts");
    if (!client_->isReady()) return;  // stays Computed: sent once registered again
    unit.stage = Unit::Stage::Submitting;
    const QString id = unit.id;
    const std::uint64_t serial = unit.serial;
    try {
        std::vector<wire::Envelope> envelopes(unit.result->parts.size());
        for (std::size_t i = 0; i < envelopes.size(); ++i)
            *envelopes[i].mutable_submit_result() = unit.result->parts[i];
        // Every part carries the first part's request id, so that one handler sees the ResultAck, or an
        // Error the coordinator sends for any part. Each envelope is moved into the client, not copied
        // again (0.94 MB for the MLP); the parts stay for a resend.
        const std::uint64_t requestId =
            client_->request(std::move(envelopes[0]), [this, id, serial](const wire::Envelope& reply) {
                onAnswered(id, serial, reply);
                return protocol::ProtocolClient::ReplyFlow::Done;
            });
        for (std::size_t i = 1; i < envelopes.size(); ++i) {
            envelopes[i].set_request_id(requestId);
            client_->send(std::move(envelopes[i]));
        }
        stats_.bytesSent += unit.result->wireBytes;
        if (!unit.result->parts.front().gradient().content().content_sha256().empty()) ++stats_.resultsHashed;
        timeline_.stamp(serial, UnitTimeline::Stage::Sent);
        emit resultSent(id);
        leaseMore();
    } catch (const Error& e) {
        dropUnit(id, QStringLiteral("cannot send its result: %1").arg(QString::fromStdString(e.message())), true);
    }
}

void Worker::onAnswered(const QString& id, std::uint64_t serial, const wire::Envelope& reply) {
    if (isConnectionError(reply)) return;  // sent again after the reconnection
    auto it = units_.find(id);
    if (it == units_.end() || it->second->serial != serial) return;
    const ComputedUnit& result = *it->second->result;
    int status = wire::RESULT_STATUS_REJECTED;
    if (reply.has_result_ack()) {
        const wire::ResultAck& ack = reply.result_ack();
        status = ack.status();
        stats_.microCredits += ack.credited_micro_credits();
        if (status != wire::RESULT_STATUS_ACCEPTED && !ack.reason().empty())
            emit statusMessage(QStringLiteral("work unit %1: %2").arg(id, QString::fromStdString(ack.reason())));
    } else {
        emit statusMessage(QStringLiteral("work unit %1: the coordinator answered %2")
                               .arg(id, reply.has_error() ? QString::fromStdString(reply.error().message())
                                                          : protocol::payloadName(reply)));
    }
    if (status == wire::RESULT_STATUS_ACCEPTED)
        ++stats_.unitsAccepted;
    else if (status == wire::RESULT_STATUS_DUPLICATE)
        ++stats_.unitsDuplicate;
    else
        ++stats_.unitsRejected;
    const qint64 samples = result.samples;
    const double secs = result.seconds;
    timeline_.stamp(serial, UnitTimeline::Stage::Answered);
    units_.erase(it);
    noteFetches();
    emit unitFinished(id, status, samples, secs);
    checkStopDone();
    leaseMore();
}

// --- stopping ---------------------------------------------------------------------------------------

void Worker::stop() {
    if (isStopping(phase_)) return;
    const WorkerPhase was = phase_;
    duty_.cancelRests();  // the unit being computed finishes without the cap's rests
    reconnectTimer_.stop();
    leaseRetryTimer_.stop();
    if (!holdsConnection(was)) {
        enter(WorkerPhase::Closing);
        QTimer::singleShot(0, this, &Worker::finish);  // nothing to close; stopped() after stop() returns
        return;
    }
    emit statusMessage(QStringLiteral("stopping: handing back the work units not started"));
    if (was != WorkerPhase::Registered) {
        enter(WorkerPhase::Closing);
        client_->close();
        closeFallbackTimer_.start(5000);
        return;
    }
    enter(WorkerPhase::Draining);
    QStringList ids;
    for (auto it = units_.begin(); it != units_.end();) {
        const Unit::Stage stage = it->second->stage;
        if (stage == Unit::Stage::Fetching || stage == Unit::Stage::Ready) {
            ids.append(it->first);
            it = units_.erase(it);
        } else {
            ++it;
        }
    }
    handBack(ids, QStringLiteral("worker shutting down"));
    stopGraceStage_ = 0;
    stopGraceTimer_.start(kStopGraceMs);
    checkStopDone();
}

void Worker::onStopGraceOver() {
    if (phase_ != WorkerPhase::Draining) return;
    if (stopGraceStage_++ == 0) {
        // The unit being computed took too long: give everything back and leave.
        QStringList ids;
        for (const auto& [id, unit] : units_) ids.append(id);
        units_.clear();
        emit statusMessage(QStringLiteral("stopping: the unit being computed did not finish in %1; handed back")
                               .arg(seconds(kStopGraceMs)));
        handBack(ids, QStringLiteral("worker shutting down"));
        stopGraceTimer_.start(5000);  // the hand-back's answer, at most this long
        checkStopDone();
        return;
    }
    enter(WorkerPhase::Closing);
    client_->close();
    closeFallbackTimer_.start(5000);
}

void Worker::checkStopDone() {
    if (phase_ != WorkerPhase::Draining) return;
    // A lease request in flight may still grant units: they are handed back before closing.
    if (!units_.empty() || pendingHandBacks_ > 0 || leaseOutstanding_) return;
    stopGraceTimer_.stop();
    enter(WorkerPhase::Closing);
    client_->close();
    closeFallbackTimer_.start(5000);
}

void Worker::giveUp(const QString& reason) {
    if (!refusal_.isEmpty() || phase_ == WorkerPhase::Stopped) return;
    refusal_ = reason.isEmpty() ? QStringLiteral("refused") : reason;
    const WorkerPhase was = phase_;
    reconnectTimer_.stop();
    leaseRetryTimer_.stop();
    heartbeatTimer_.stop();
    emit statusMessage(reason);
    emit refused(reason);
    if (was == WorkerPhase::Closing) return;  // already on its way to stopped()
    enter(WorkerPhase::Closing);
    if (holdsConnection(was)) {
        client_->close();  // disconnected() finishes
        closeFallbackTimer_.start(5000);
    } else {
        QTimer::singleShot(0, this, &Worker::finish);
    }
}

void Worker::finish() {
    if (phase_ == WorkerPhase::Stopped) return;
    enter(WorkerPhase::Stopped);
    reconnectTimer_.stop();
    heartbeatTimer_.stop();
    leaseRetryTimer_.stop();
    stopGraceTimer_.stop();
    closeFallbackTimer_.stop();
    if (fetcher_) noteFetches();
    emit statusMessage(QStringLiteral("stopped"));
    emit stopped();
}

}  // namespace raven::worker
