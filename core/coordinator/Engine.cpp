#include "coordinator/Engine.h"

#include <QDir>
#include <QLoggingCategory>
#include <QRandomGenerator>

#include <algorithm>

#include "base/Error.h"
#include "coordinator/RequestError.h"
#include "coordinator/WireIds.h"
#include "protocol/BoundedText.h"
#include "protocol/Framing.h"

namespace raven::coordinator {

namespace {

QString makeDataDir(const QString& dir) {
    RAVEN_CHECK(!dir.isEmpty(), "the coordinator has no data directory", "pass --data-dir DIR");
    RAVEN_CHECK(QDir().mkpath(dir), "cannot create the data directory " + dir.toStdString(),
                "check the path and its permissions");
    return QDir(dir).filePath("coordinator.lock");
}

int tickIntervalMs(const CoordinatorOptions& o) {
    return std::clamp(std::min(o.leaseTimeoutMs, o.unitDeadlineMs) / 4, 20, 1000);
}

protocol::ProtocolServer::Options serverOptions(const CoordinatorOptions& o) {
    protocol::ProtocolServer::Options server;
    server.handshakeTimeoutMs = o.peers.handshakeTimeoutMs;
    server.helloTimeoutMs = std::min(protocol::kHelloTimeoutMs, o.peers.loginTimeoutMs);
    server.maxConnections = o.peers.maxConnections;
    server.maxConnectionsPerAddress = o.peers.maxConnectionsPerAddress;
    server.maxQueuedBytes = o.peers.maxQueuedBytes;
    return server;
}

}  // namespace

Engine::Engine(Coordinator& owner, const CoordinatorOptions& options)
    : owner_(owner),
      options_(options),
      lock_(makeDataDir(options.dataDir)),
      enrollments_(options.peers.enrollmentsPerAddressPerHour, std::chrono::hours(1)),
      bounds_(options.jobs) {
    // One coordinator per data directory: two would lease the same units and step the same jobs.
    lock_.setStaleLockTime(0);
    RAVEN_CHECK(lock_.tryLock(0),
                "another coordinator is using " + options.dataDir.toStdString() + " (" +
                    QDir(options.dataDir).filePath("coordinator.lock").toStdString() + ")",
                "stop it first; admin commands (add-contributor, status) work while it runs");
    RAVEN_CHECK(options.heartbeatIntervalMs > 0 && options.leaseTimeoutMs > 0 && options.unitDeadlineMs > 0,
                "coordinator timings must be positive", "check the heartbeat, lease timeout and deadline options");
    store_ = std::make_unique<ledger::CoordinatorStore>(QDir(options.dataDir).filePath("coordinator.sqlite"));
    ledger_ = std::make_unique<ledger::Ledger>(*store_, options.rate, options.creditWindow);
    leases_ = std::make_unique<ledger::LeaseBook>(*store_, *ledger_);
    scheduler_ = std::make_unique<Scheduler>(*store_, *leases_);
    desk_ = std::make_unique<LeaseDesk>(*store_, *leases_, *scheduler_, options.unitDeadlineMs);
    judge_ = std::make_unique<ResultJudge>(*store_, *leases_,
                                           [this](ledger::JobId job, const QString& why) { failJob(job, why); });
    library_ = std::make_unique<DataLibrary>(options.dataDir);
    // The draw's seed is secret: a contributor that could tell which units are replayed would cheat
    // on the others.
    trust_ = std::make_unique<ledger::TrustBook>(*store_);  // a restart keeps who is trusted, who quarantined
    verifier_ = std::make_unique<ResultVerifier>(
        options.verification,
        options.verificationSeed != 0 ? options.verificationSeed : QRandomGenerator::system()->generate64(),
        library_->shards(), trust_.get());
    server_ = std::make_unique<protocol::ProtocolServer>(protocol::ServerIdentity::loadOrCreate(options.dataDir),
                                                         serverOptions(options));
    metrics_ = std::make_unique<Metrics>(*server_, options.dataDir);
    evaluations_ = std::make_unique<BackgroundEvaluations>(
        pool_, *this,
        [this](ledger::JobId job, wire::MetricsUpdate update, const std::optional<nn::EvalResult>& eval) {
            publishStep(job, std::move(update), eval);
        });

    connect(server_.get(), &protocol::ProtocolServer::peerConnected, this,
            [this](ConnectionId id, const wire::Hello&) { onConnected(id); });
    connect(server_.get(), &protocol::ProtocolServer::messageReceived, this,
            [this](ConnectionId id, const wire::Envelope& e) { onMessage(id, e); });
    connect(server_.get(), &protocol::ProtocolServer::peerDisconnected, this,
            [this](ConnectionId id, const QString&) { onDisconnected(id); });
    connect(&ticker_, &QTimer::timeout, this, [this] { tick(); });
    ticker_.setInterval(tickIntervalMs(options));
    sweeper_.setMaxThreadCount(1);
    aheadPool_.setMaxThreadCount(1);
    aheadPool_.setExpiryTimeout(-1);
    ingest_ = std::make_unique<ResultIngest>(pool_, *this);
    commit_ = std::make_unique<GroupCommit>(
        pool_, *this, [this](std::vector<CommitItem> batch) { onBatchDurable(std::move(batch)); }, &spares_);
    replays_ = std::make_unique<ReplayQueue>(
        ReplayQueue::Limits{options.verification.replaySlots, options.verification.replaysWaitingPerContributor},
        [this](PendingReplay pending) { startReplay(std::move(pending)); });

    resumeJobs();  // also settles the quarantines a crash cut short (settleQuarantines)
    const ledger::AuditReport audit = ledger_->audit();
    for (const QString& problem : audit.problems) qWarning("coordinator: ledger audit: %s", qPrintable(problem));
}

Engine::~Engine() {
    // Not a shutdown protocol: leases stay in the store exactly as a crash would leave them (the next
    // start hands them back). Only stop the server's signals from reaching a half-destroyed engine.
    ticker_.stop();
    pool_.waitForDone();  // its answers, queued to this object, die with it
    aheadPool_.waitForDone();
    sweeper_.waitForDone();
    server_->disconnect(this);
    server_.reset();
}

void Engine::start() {
    server_->listen(options_.address, options_.port);
    ticker_.start();
    sinceTick_.start();
}

QUrl Engine::url() const { return server_->url(); }
QString Engine::fingerprint() const { return server_->fingerprint(); }

void Engine::answer(ConnectionId id, std::uint64_t requestId, wire::Envelope envelope) {
    server_->reply(id, requestId, std::move(envelope));
}

void Engine::requireAuthenticated(const Session& s, const char* request) const {
    if (s.principal == Principal::None)
        refuse(wire::ERROR_CODE_UNAUTHENTICATED, QStringLiteral("%1 before Authenticate").arg(QLatin1String(request)),
               QStringLiteral("authenticate with a contributor token or an API key first"));
}

void Engine::requireContributor(const Session& s, const char* request) const {
    requireAuthenticated(s, request);
    if (s.principal != Principal::Contributor)
        refuse(wire::ERROR_CODE_PERMISSION_DENIED,
               QStringLiteral("%1 is for contributors; this connection is a requester's").arg(QLatin1String(request)),
               QStringLiteral("connect with a contributor token to compute work units"));
}

void Engine::requireRequester(const Session& s, const char* request) const {
    requireAuthenticated(s, request);
    if (s.principal != Principal::Requester)
        refuse(wire::ERROR_CODE_PERMISSION_DENIED,
               QStringLiteral("%1 is for requesters; this connection is a contributor's").arg(QLatin1String(request)),
               QStringLiteral("connect with a requester's API key to manage datasets and jobs"));
}

void Engine::onMessage(ConnectionId id, const wire::Envelope& envelope) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;  // already gone
    Session& session = it->second;
    session.lastHeard = utcNow();
    if (session.lapsed) {
        session.lapsed = false;  // it speaks again; its next LeaseRequest gets work
        refreshFleet(session);
    }
    try {
        dispatch(session, envelope);
        // What can make work leasable: a step's last result, units handed back, a job created or resumed.
        // (A submit_result: its contributor may hold more once accepted, or a rejected one's unit is
        // leasable again; LeaseDesk offers only the parked requests that may get something.)
        if (envelope.has_create_job() || envelope.has_control_job()) desk_->workMayHaveAppeared();
        if (envelope.has_submit_result() || envelope.has_lease_hand_back() || envelope.has_create_job() ||
            envelope.has_control_job())
            serveParkedLeases();
    } catch (const RequestError& e) {
        server_->send(id, protocol::makeError(e.code, e.message, e.hint, envelope.request_id()));
    } catch (const raven::Error& e) {
        qWarning("coordinator: %s from connection %llu failed: %s", qPrintable(protocol::payloadName(envelope)),
                 static_cast<unsigned long long>(id), qPrintable(protocol::boundText(QString::fromUtf8(e.what()))));
        server_->send(id, protocol::makeError(wire::ERROR_CODE_INTERNAL, QString::fromStdString(e.message()),
                                              QString::fromStdString(e.hint()), envelope.request_id()));
    } catch (const std::exception& e) {
        qWarning("coordinator: %s from connection %llu failed: %s", qPrintable(protocol::payloadName(envelope)),
                 static_cast<unsigned long long>(id), qPrintable(protocol::boundText(QString::fromUtf8(e.what()))));
        server_->send(id,
                      protocol::makeError(wire::ERROR_CODE_INTERNAL, QString::fromUtf8(e.what()),
                                          QStringLiteral("the coordinator's log has details"), envelope.request_id()));
    }
    retired_.clear();
}

void Engine::dispatch(Session& s, const wire::Envelope& e) {
    switch (e.payload_case()) {
        case wire::Envelope::kAuthenticate:
            return onAuthenticate(s, e);
        case wire::Envelope::kRegisterContributor:
            return onRegister(s, e);
        case wire::Envelope::kHeartbeat:
            return onHeartbeat(s, e);
        case wire::Envelope::kLeaseRequest:
            return onLeaseRequest(s, e);
        case wire::Envelope::kLeaseHandBack:
            return onHandBack(s, e);
        case wire::Envelope::kFetchShard:
            return onFetchShard(s, e);
        case wire::Envelope::kFetchManifest:
            return onFetchManifest(s, e);
        case wire::Envelope::kFetchWeights:
            return onFetchWeights(s, e);
        case wire::Envelope::kSubmitResult:
            return onSubmitResult(s, e);
        case wire::Envelope::kUploadDataset:
            return onUploadDataset(s, e);
        case wire::Envelope::kUploadShard:
            return onUploadShard(s, e);
        case wire::Envelope::kUploadModelSpec:
            return onUploadModelSpec(s, e);
        case wire::Envelope::kCreateJob:
            return onCreateJob(s, e);
        case wire::Envelope::kListJobs:
            return onListJobs(s, e);
        case wire::Envelope::kControlJob:
            return onControlJob(s, e);
        case wire::Envelope::kSubscribeMetrics:
            return onSubscribe(s, e);
        case wire::Envelope::kUnsubscribe:
            return onUnsubscribe(s, e);
        case wire::Envelope::kDownloadCheckpoint:
            return onDownloadCheckpoint(s, e);
        case wire::Envelope::kBalanceQuery:
            return onBalance(s, e);
        case wire::Envelope::kContributorStatsQuery:
            return onContributorStats(s, e);
        case wire::Envelope::kJobContributorsQuery:
            return onJobContributors(s, e);
        default:
            refuse(wire::ERROR_CODE_INVALID_ARGUMENT,
                   QStringLiteral("%1 is not a request a coordinator answers").arg(protocol::payloadName(e)),
                   QStringLiteral("see docs/protocol.md for what clients send"));
    }
}

void Engine::tick() {
    try {
        const QDateTime now = utcNow();
        // Leases past their deadline: the units go back to the queue.
        const QMap<ledger::JobId, int> reissued = desk_->expire(now);
        for (auto it = reissued.begin(); it != reissued.end(); ++it)
            metrics_->event(it.key(), wire::JOB_EVENT_KIND_WORK_REISSUED,
                            QStringLiteral("%1 work unit(s) re-issued: their lease deadline passed").arg(it.value()));
        closeSilentStrangers(now);
        // Credits whose verification window passed unchecked become their contributors' (one transaction).
        const ledger::CreditSweep confirmed = ledger_->confirmDueCredits(now);
        if (confirmed.credits > 0)
            qInfo("coordinator: %lld credit(s) of %lld micro-credits confirmed: their verification window passed",
                  static_cast<long long>(confirmed.credits), static_cast<long long>(confirmed.amount));
        // Steps whose results all became final need not be kept for a rewind any more.
        if (confirmed.credits > 0)
            for (const auto& [id, r] : runners_)
                if (!r->stepping() && !rewinding_.count(id)) trimRewindArchive(*r);
        // Time passing may make a leased unit old enough to speculate on, and parked requests due.
        desk_->workMayHaveAppeared();
        // Workers silent for too long lose their leases (their connection may linger for minutes). All
        // of a tick's lapses first, then one count of who is still heard: after a stall thousands may
        // lapse at once, and asking per lapse whether the contributor is online elsewhere scans every
        // session each time.
        // Silence is counted from the last bytes read from a session's socket, not the last whole
        // message: a worker uploading a large result, or one whose messages wait in a busy event
        // loop's socket buffers, is alive. And a tick far later than scheduled means the event loop
        // itself stalled (a long step, a slow disk): what it did not read is no one's silence, so
        // nobody lapses on that tick; the next one judges with the bytes read meanwhile.
        const qint64 sinceTick = sinceTick_.restart();
        const bool stalled = sinceTick > 2 * static_cast<qint64>(ticker_.interval());
        std::vector<Session*> lapsing;
        for (auto& [id, session] : sessions_) {
            if (stalled) break;
            if (session.principal != Principal::Contributor || session.lapsed) continue;
            if (session.lastHeard.msecsTo(now) < options_.leaseTimeoutMs) continue;
            if (server_->msSinceBytesArrived(id).value_or(options_.leaseTimeoutMs) < options_.leaseTimeoutMs) continue;
            session.lapsed = true;
            refreshFleet(session);
            lapsing.push_back(&session);
        }
        if (!lapsing.empty()) {
            std::set<ledger::ContributorId> heard;
            for (const auto& [id, session] : sessions_)
                if (session.principal == Principal::Contributor && !session.lapsed) heard.insert(session.principalId);
            std::set<ledger::ContributorId> released;
            for (Session* session : lapsing) {
                if (heard.count(session->principalId) || !released.insert(session->principalId).second) continue;
                releaseSilentContributor(*session, QStringLiteral("silent for %1 ms").arg(session->lastHeard.msecsTo(now)));
            }
        }
        serveParkedLeases();
    } catch (const std::exception& e) {
        qWarning("coordinator: lease upkeep failed: %s", e.what());
    }
    retired_.clear();
}

void Engine::closeSilentStrangers(const QDateTime& now) {
    std::vector<ConnectionId> strangers;
    for (const auto& [id, session] : sessions_)
        if (session.principal == Principal::None && session.connectedAt.msecsTo(now) >= options_.peers.loginTimeoutMs)
            strangers.push_back(id);
    for (const ConnectionId id : strangers)
        server_->closeConnection(
            id, wire::ERROR_CODE_UNAUTHENTICATED,
            QStringLiteral("no Authenticate within %1 ms of connecting").arg(options_.peers.loginTimeoutMs),
            QStringLiteral("authenticate right after Hello with a contributor token or an API key"));
}

}  // namespace raven::coordinator
