#pragma once
// Worker: a contributor's engine. It lends this machine to a coordinator: connects, proves who it is,
// takes work units, computes their gradients and sends them back, for as long as it runs.
//
//   worker::WorkerOptions options;
//   options.coordinator = QUrl("wss://coordinator.example:7443");
//   options.token = token;                        // or enroll = true + tokenFile (open enrollment)
//   options.cacheDir = "/var/cache/raven-worker";
//   worker::Worker worker(options);
//   connect(&worker, &worker::Worker::unitFinished, ...);   // one per result the coordinator answered
//   connect(&worker, &worker::Worker::refused, ...);        // bad token, changed certificate: it gave up
//   worker.start();  ...  worker.stop();                    // stopped() once it is done
//
// The session (docs/worker.md and docs/protocol.md have the messages):
//  1. Connect (protocol::ProtocolClient, role contributor; the coordinator's certificate is pinned on
//     first contact), Authenticate with the token, RegisterContributor with the device and its
//     measured speed (WorkerDevice.h: once per process, on the compute thread, under a second). With
//     enroll and no token yet, register first: the coordinator creates the contributor and returns its
//     token, which the worker saves to tokenFile and uses from then on.
//  2. Heartbeat every heartbeat_interval_ms with the units it holds. A coordinator that has not
//     answered one for lease_timeout_ms is taken for gone: the worker reconnects.
//  3. Lease loop: work is asked for ahead with a low and a high water mark (WorkBuffer.h) of units
//     not yet computed: below workBufferLow, a LeaseRequest for enough to reach maxConcurrentLeases
//     (a computed unit no longer counts, acknowledged or not); none: ask again after retry_after_ms.
//     The grant carries the weights of its units' versions that the worker does not hold
//     (weightsWithGrant; docs/protocol.md). For each unit, its manifest, shards and weights come from
//     memory, the ContentCache or the coordinator (ContentFetcher.h), then the compute thread
//     computes the summed-loss gradient (UnitComputer.h) and the protocol thread submits it as SubmitResult chunks and reads the
//     ResultAck. Units compute one at a time, in lease order (or side by side, in lanes: ComputeLanes.h,
//     WorkerOptions::computeLanes); the next unit's inputs arrive meanwhile,
//     and the last unit's result is encoded and compressed on a thread of its own and sent while the
//     next one computes.
//     Weights that are no longer served (Error{NOT_FOUND}: the job moved on) make the unit stale: it
//     is dropped and the worker leases again. A unit that cannot be computed is handed back with why.
//  4. When the connection drops or the coordinator cannot be reached: reconnect after 0.5 s, doubling
//     to 30 s, with jitter (Backoff.h), back to 0.5 s after a session that registered. Units whose
//     inputs were still arriving are handed back once registered again; computed results are sent
//     again (the coordinator accepts a late result while nobody else delivered first). A refusal that
//     retrying cannot cure (incompatible versions, a rejected token, a changed certificate, a cache
//     folder held by another worker) emits refused() and stops.
//  5. stop(): hands back the units not being computed (reason "worker shutting down"), lets the unit
//     being computed finish and its result be answered (at most kStopGraceMs, then it is handed back
//     too), closes, and emits stopped().
//
// Threads: the protocol, the cache and every signal live on the thread that owns the Worker (its event
// loop must run); the computation runs on a thread of the worker's own per lane, and the results'
// encoding on another, so that heartbeats and the next unit's downloads go on meanwhile.
#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QString>
#include <QThreadPool>
#include <QTimer>
#include <QUrl>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "protocol/raven.pb.h"
#include "worker/Backoff.h"
#include "worker/DutyCycle.h"
#ifdef RAVEN_HOSTILE_WORKER
#include "worker/HostileCompute.h"
#endif
#include "worker/UnitComputer.h"
#include "worker/UnitTimeline.h"
#include "worker/WorkBuffer.h"
#include "worker/WorkerPhase.h"

namespace raven::protocol {
class ProtocolClient;
}

namespace raven::worker {

class ContentCache;
class ContentFetcher;
class RecordedCompute;

struct WorkerOptions {
    QUrl coordinator;
    QString token;           // empty + enroll: ask for open enrollment, save the token to tokenFile
    QString tokenFile;       // where an enrolled token is kept (read at start when token is empty)
    bool enroll = false;     // without a token: register without one (the coordinator's open enrollment)
    QString knownHostsPath;  // empty: protocol default
    QString cacheDir;        // shards, manifests, weights; created if missing; empty: nothing kept on disk
    qint64 cacheBytes = 2LL << 30;
    qint64 shardMemoryBytes = 512LL << 20;  // decoded shards kept in memory (DecodedShards.h)
    QString device = "cpu";  // "cpu", "vulkan", "vulkan:N"; a Vulkan failure falls back to CPU with a message
    int threads = 0;         // CPU threads (0: all)
    int maxConcurrentLeases = 1;  // the high water mark of the work buffer (WorkBuffer.h), told to the coordinator
    // Units computed side by side, each on a UnitComputer with its share of the threads (ComputeLanes.h);
    // 0: automatic (one, as measured). With more than one, busyShare() undercounts (units that overlap
    // are one piece of work to DutyCycle, ended by the first to finish), and a duty cycle below 100 %
    // makes the lanes take turns.
    int computeLanes = 1;
    int workBufferLow = 0;        // its low water mark; 0: the same as maxConcurrentLeases (kept topped up)
    // Ask for the weights with each grant (LeaseRequest.push_weights) rather than fetching them after it.
    bool weightsWithGrant = true;
    QString displayName;  // empty: "raven-worker on <host name>"
    // The contributor's memory cap (UnitMemory.h): a unit estimated to need more is handed back
    // without computing (unitRefused). 0: none.
    qint64 maxUnitBytes = 0;
    // Benchmarks only (RecordedCompute.h): keep each unit's result and compute time in recordDir, or
    // replay them from replayDir instead of computing. At most one of the two (replayDir wins).
    QString recordDir;
    QString replayDir;
#ifdef RAVEN_HOSTILE_WORKER
    // Test beds only (HostileCompute.h): cheat in the named way; empty kind: honest.
    HostileOptions hostile;
#endif
};

class Worker : public QObject {
    Q_OBJECT
public:
    explicit Worker(WorkerOptions options, QObject* parent = nullptr);
    ~Worker() override;

    void start();  // connect, authenticate/enroll, register (with a benchmark), lease loop
    void stop();   // graceful: hands back leases not started, finishes nothing new; emits stopped()

    struct Stats {
        qint64 unitsAccepted = 0, unitsRejected = 0, unitsDuplicate = 0;
        qint64 samples = 0;  // samples of the units computed (whatever the coordinator said of them)
        double flops = 0;    // their training FLOPs (Architecture::trainingFlopsPerSample per sample)
        qint64 bytesSent = 0, bytesReceived = 0;  // results submitted; contents fetched (cache hits are free)
        // Results submitted with their content hash: none to a coordinator that takes them without
        // (RegisterReply.takes_unhashed_results), where TLS already guards the bytes.
        qint64 resultsHashed = 0;
        qint64 microCredits = 0;                  // credited by the coordinator's ResultAcks
        qint64 weightsFetched = 0, weightsPushed = 0;  // versions fetched / that came with a grant
        // An int8-down job's versions rebuilt from a delta / deltas refused (then fetched whole), and the
        // travelling bytes of weights that came whole / as deltas.
        qint64 weightsDeltas = 0, weightsDeltasRefused = 0;
        qint64 wholeWeightsBytes = 0, weightsDeltaBytes = 0;
        qint64 shardsPrefetched = 0;  // shards fetched on the coordinator's hint, before a unit named them
        // A granted unit's shards: already decoded in memory (prefetched, or kept from an earlier use),
        // or fetched after the grant (on the critical path; a hint that missed or came late).
        qint64 shardsInMemoryAtGrant = 0, shardsAfterGrant = 0;
    };
    const Stats& stats() const { return stats_; }
    // Where its wall time went, unit by unit (UnitTimeline.h): for the exit summary and benchmarks.
    const UnitTimeline& timeline() const { return timeline_; }
    // The contributor id the coordinator gave (empty until registered) and the token in use.
    const QString& contributorId() const { return contributorId_; }
    const QString& token() const { return token_; }
    // The device computing (empty until measured), e.g. "CPU: Intel(R) Xeon(R) ... (2 threads)".
    const QString& deviceSummary() const { return deviceSummary_; }
    bool isRegistered() const { return worker::isRegistered(phase_); }
    // Where the session stands (WorkerPhase.h).
    WorkerPhase phase() const { return phase_; }

    // How long stop() lets the unit being computed finish before handing it back.
    static constexpr int kStopGraceMs = 30000;

    // The share of time the compute thread may work, 1..100 (the contributor app's GPU usage cap),
    // kept by DutyCycle.h: rests between units and between the chunks of a long unit, the waits for
    // data counted as rest already taken. Takes effect at once; 100 (the default) never rests.
    void setDutyCycle(int percent);
    int dutyCycle() const { return dutyCyclePercent_; }
    // The share of the last minute (since the duty cycle was last set) the device spent computing;
    // -1 before any unit.
    double busyShare() const { return duty_.busyShare(); }
    const DutyCycle& dutyCycleMeter() const { return duty_; }

signals:
    void connected(QString contributorId);
    void unitFinished(QString workUnitId, int status /*wire::ResultStatus*/, qint64 samples, double seconds);
    void statusMessage(QString text);  // for logs and the tray app
    void refused(QString reason);      // version mismatch, bad token, changed certificate: do not retry
    void stopped();
    // Every change of phase (WorkerPhase.h), in order.
    void phaseChanged(raven::worker::WorkerPhase from, raven::worker::WorkerPhase to);
    // The compute thread took a unit up / put it down (seconds of computation), for the busy share.
    void computeStarted(QString workUnitId, QString jobId);
    void computeEnded(QString workUnitId, double seconds);
    // A unit's result went out (its SubmitResult parts handed to the connection), before its answer.
    void resultSent(QString workUnitId);
    // A unit the device could not compute (handed back to the coordinator with this reason). A device
    // lost mid-unit says VK_ERROR_DEVICE_LOST here: the worker's device is then unusable.
    void computeFailed(QString workUnitId, QString error);
    // A unit this worker will not compute under its limits (the memory cap), handed back with `reason`.
    void unitRefused(QString workUnitId, QString reason);

private:
    struct Unit;

    void enter(WorkerPhase next);
    void connectNow();
    void onReady();
    void onDisconnected(const QString& reason);
    void authenticate();
    void registerContributor();
    void onRegistered(const wire::RegisterReply& reply);
    void onDeviceReady(const DeviceReport& report);
    void sendHeartbeat();
    void leaseMore();
    void noteFetches();
    void acceptUnit(const wire::WorkUnit& unit);
    void prefetch(const wire::LeaseGrant& grant);
    void inputArrived(const QString& id, std::uint64_t serial);
    void maybeCompute();
    void computeFinished(int lane, const QString& id, double seconds);  // the lane is free again
    void onGradient(int lane, const QString& id, std::uint64_t serial, ComputedGradient gradient);
    // The unit's result, encoded (or its error); `expectedStage` is the Unit::Stage it must still be in.
    void resultReady(const QString& id, std::uint64_t serial, ComputedUnit result, int expectedStage);
    void submit(Unit& unit);
    void onAnswered(const QString& id, std::uint64_t serial, const wire::Envelope& reply);
    // couldNotCompute: the units themselves are at fault here (malformed, unreadable, failing), which
    // the coordinator counts towards failing their job; not for stopping or this worker's own limits.
    void handBack(const QStringList& ids, const QString& reason, bool couldNotCompute = false);
    void dropUnit(const QString& id, const QString& why, bool giveBack, bool couldNotCompute = false);
    void giveUp(const QString& reason);
    void checkStopDone();
    void onStopGraceOver();
    void finish();
    void saveToken(const QString& token);
    bool isConnectionError(const wire::Envelope& reply) const;

    WorkerOptions options_;
    QString token_;
    QString contributorId_;
    // From the RegisterReply: results go without a content_sha256 (each registration says again).
    bool coordinatorTakesUnhashedResults_ = false;
    QString deviceSummary_;
    Stats stats_;
    UnitTimeline timeline_;
    DutyCycle duty_;  // before the computer and its thread: a unit computing uses it until its end

    std::unique_ptr<ContentCache> cache_;
    std::unique_ptr<ContentFetcher> fetcher_;
    std::vector<std::unique_ptr<UnitComputer>> lanes_;  // units computed side by side (ComputeLanes.h)
    std::vector<bool> laneBusy_;
    QThreadPool computePool_;  // a thread per lane: the computation never blocks the protocol
    QThreadPool encodePool_;   // one thread: results encoded and compressed while the next unit computes
    protocol::ProtocolClient* client_ = nullptr;
    // --record / --replay (RecordedCompute.h, benchmarks only); null: the worker computes.
    std::unique_ptr<RecordedCompute> recorded_;
#ifdef RAVEN_HOSTILE_WORKER
    std::unique_ptr<HostileCompute> hostile_;
#endif

    WorkerPhase phase_ = WorkerPhase::Idle;
    QString refusal_;  // why it gave up (refused() emitted); empty: it did not
    std::optional<wire::Device> device_;
    int heartbeatIntervalMs_ = 2000;
    int leaseTimeoutMs_ = 10000;
    QElapsedTimer sinceHeartbeatAck_;
    bool leaseOutstanding_ = false;
    int pendingHandBacks_ = 0;
    std::uint64_t nextSerial_ = 1;
    std::map<QString, std::unique_ptr<Unit>> units_;  // the units held, by id
    QStringList handBackLater_;                       // to give back once registered again
    QHash<QString, std::shared_ptr<const data::Manifest>> manifests_;
    // Units that failed to compute here, and how often: one that failed kMaxComputeFailures times is
    // handed back at once when leased again (not retried forever on a device that cannot do it).
    QHash<QString, int> computeFailures_;
    // Units above this worker's own limits (the memory cap), with why: handed back at once if leased
    // again, and not counted against the unit at the coordinator, since the unit is not at fault.
    QHash<QString, QString> refusedHere_;
    static constexpr int kMaxComputeFailures = 2;

    WorkBuffer buffer_{1, 1};
    Backoff backoff_;
    QTimer reconnectTimer_;
    QTimer heartbeatTimer_;
    QTimer leaseRetryTimer_;
    QTimer stopGraceTimer_;
    QTimer closeFallbackTimer_;
    int stopGraceStage_ = 0;
    int dutyCyclePercent_ = 100;
    QTimer restTimer_;  // the rest between units that the duty cycle asks for
};

}  // namespace raven::worker
