#pragma once
// Engine: the coordinator's parts wired together behind Coordinator (internal to core/coordinator).
// It dispatches messages and keeps sessions; the decisions live in small classes of their own.
//
//   ProtocolServer --messageReceived--> dispatch() --> one handler per request kind:
//     EngineSessions.cpp      Authenticate, RegisterContributor, Heartbeat; connections coming and going
//     EngineContributors.cpp  LeaseRequest, LeaseHandBack, FetchShard/Manifest/Weights, SubmitResult
//     EngineRequesters.cpp    uploads, CreateJob, ListJobs, ControlJob, metrics, checkpoints, credits
//     EngineJobs.cpp          resuming jobs at start-up, stepping them, ending them
//
//   leasing      LeaseDesk (hold caps, parked requests, speculation threshold, hand-backs, expiry)
//                over Scheduler (which units) over ledger::LeaseBook (the store's leases)
//   a result     parts appended on the event loop -> ResultIngest (pool: decompress, hash once,
//                decode, measure) -> ResultJudge (duplicate? plausible?) -> GroupCommit (pool: the
//                batch's files durable) -> one store transaction for the batch (LeaseBook pays)
//                -> ResultJudge's answer; JobRunner adds the gradient to the step's running sum
//                in unit order (OrderedGradientSum) and frees it
//   a step       all units done -> JobRunner::prepareStep (event loop: the sum's last results) ->
//                computeStep (pool: mean, optimizer, state file durable) -> finishStep, the store's version,
//                the next step's units in one transaction, parked workers served (event loop); a job
//                that leases ahead: computeWeights (pool) -> V + 1 granted (event loop) ->
//                writeStepState (pool: state file durable) -> finishStep; its weights may be computed
//                while the step's last result is written and paid, and taken once it is (StepsAhead)
//
// Each handler either answers or throws RequestError (answered as Error{code}); dispatch() catches
// everything per message, so a bad request or a failing handler never ends the process or another
// connection. Work that comes back from the pool is caught the same way. A timer expires leases and
// hands back the leases of silent workers.
#include <QDateTime>
#include <QElapsedTimer>
#include <QLockFile>
#include <QObject>
#include <QSet>
#include <QThreadPool>
#include <QTimer>

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "coordinator/BackgroundEvaluations.h"
#include "coordinator/Coordinator.h"
#include "coordinator/DataLibrary.h"
#include "coordinator/GroupCommit.h"
#include "coordinator/JobBounds.h"
#include "coordinator/JobRunner.h"
#include "coordinator/LeaseDesk.h"
#include "coordinator/LiveFleet.h"
#include "coordinator/Metrics.h"
#include "coordinator/ModelRewind.h"
#include "coordinator/OutlierStrikes.h"
#include "coordinator/PrefetchHints.h"
#include "coordinator/RateLimiter.h"
#include "coordinator/ReplayQueue.h"
#include "coordinator/ResultIngest.h"
#include "coordinator/ResultJudge.h"
#include "coordinator/ResultVerifier.h"
#include "coordinator/Scheduler.h"
#include "coordinator/SpareFiles.h"
#include "coordinator/StepUnits.h"
#include "coordinator/StepWaterfall.h"
#include "coordinator/StepsAhead.h"
#include "coordinator/Transfers.h"
#include "ledger/LeaseBook.h"
#include "protocol/GradientCodec.h"
#include "protocol/ProtocolServer.h"

namespace raven::coordinator {

class Engine : public QObject {
public:
    Engine(Coordinator& owner, const CoordinatorOptions& options);
    ~Engine() override;

    void start();
    QUrl url() const;
    QString fingerprint() const;
    ledger::CoordinatorStore& store() { return *store_; }
    ledger::Ledger& ledger() { return *ledger_; }
    const ResultVerifier& verifier() const { return *verifier_; }
    const ReplayQueue& replays() const { return *replays_; }
    const StepsAhead& stepsAhead() const { return ahead_; }

private:
    using ConnectionId = protocol::ConnectionId;
    enum class Principal { None, Contributor, Requester };

    // One connection past its Hello.
    struct Session {
        ConnectionId id = 0;
        Principal principal = Principal::None;
        qint64 principalId = 0;  // contributor or requester id
        double gflops = 0.0;
        int maxConcurrentLeases = 0;
        QDateTime lastHeard;
        QDateTime connectedAt;  // a session that does not log in within loginTimeoutMs is closed
        QHostAddress peer;
        bool lapsed = false;  // silent past leaseTimeoutMs: its leases were handed back
        QDateTime pingedAt;   // its round trip last measured (ProtocolServer::ping)
        int pings = 0;        // pings sent to it
        wire::LeaseRequest leaseAsk;  // its latest LeaseRequest: which weights to push with the grant
        // Shards hinted to it for prefetching (PrefetchHints.h), per job: the version they were hinted
        // at and the hashes. It may fetch these as it may its leased units' shards.
        std::map<ledger::JobId, std::pair<qint64, QSet<QString>>> prefetchable;
        std::map<std::string, std::unique_ptr<protocol::ResultAssembler>> results;  // by work unit id
        struct Arrival {
            StepWaterfall::Clock::time_point first;  // its first part
            std::int64_t bytes = 0;
            ledger::JobId job = 0;  // the unit's, read from the store at the first part
        };
        std::map<std::string, Arrival> arrivals;  // of `results`, for the step's waterfall and its job
        int resultsChecking = 0;                  // complete results in ResultIngest, not yet answered
        std::map<std::string, wire::ResultAck> droppedResults;  // unit id -> the answer its rest gets
        std::map<std::string, std::unique_ptr<protocol::ContentAssembler>> uploads;  // by shard hash
    };

    // --- Engine.cpp: wiring ---------------------------------------------------------------------
    void onMessage(ConnectionId id, const wire::Envelope& envelope);
    void dispatch(Session& session, const wire::Envelope& envelope);
    void answer(ConnectionId id, std::uint64_t requestId, wire::Envelope envelope);
    void requireContributor(const Session& session, const char* request) const;
    void requireRequester(const Session& session, const char* request) const;
    void requireAuthenticated(const Session& session, const char* request) const;
    void tick();
    // Closes connections that never authenticated (a stranger holding sockets open).
    void closeSilentStrangers(const QDateTime& now);

    // --- EngineSessions.cpp -----------------------------------------------------------------------
    void onConnected(ConnectionId id);
    void onDisconnected(ConnectionId id);
    void onAuthenticate(Session& s, const wire::Envelope& e);
    void onRegister(Session& s, const wire::Envelope& e);
    void onHeartbeat(Session& s, const wire::Envelope& e);
    // The contributor's leases end (it left or fell silent) unless another live session speaks for it.
    void releaseContributor(const Session& s, const QString& why);
    // The same once it is known that no other live session speaks for the contributor.
    void releaseSilentContributor(const Session& s, const QString& why);
    bool contributorOnlineElsewhere(const Session& s) const;
    double totalConnectedGflops() const { return fleet_.totalWeight(); }
    int connectedContributors() const { return fleet_.contributors(); }
    // Keeps fleet_ in step with a session whose principal, speed or lapse changed.
    void refreshFleet(const Session& s);

    // --- EngineContributors.cpp -------------------------------------------------------------------
    void onLeaseRequest(Session& s, const wire::Envelope& e);
    // What the grants of one round share: the leasable jobs in order and the fleet's speed (computed
    // once per round of parked requests, not per request: each job is a store query).
    struct LeaseRound {
        std::vector<Scheduler::JobSlot> jobs;
        double totalGflops = 0.0;
    };
    LeaseRound leaseRound() const { return {leasableJobs(), totalConnectedGflops()}; }
    // Leases what the LeaseDesk gives this worker now, as a LeaseGrant (possibly empty): the one
    // place a LeaseGrant is built.
    wire::Envelope grantLeases(Session& s, int maxUnits, const LeaseRound& round);
    // Parked lease requests (LeaseDesk) answered when work may have appeared.
    void serveParkedLeases();
    // The next step's shards at the places of `unit` (PrefetchHints.h), added to the grant once each
    // and remembered as fetchable by this session.
    void addPrefetchHints(Session& s, wire::LeaseGrant& out, const JobRunner& r, const ledger::WorkUnit& unit);
    void onHandBack(Session& s, const wire::Envelope& e);
    void onFetchShard(Session& s, const wire::Envelope& e);
    void onFetchManifest(Session& s, const wire::Envelope& e);
    void onFetchWeights(Session& s, const wire::Envelope& e);
    // The units this contributor holds a lease on now: what it may fetch content for.
    QList<ledger::WorkUnit> leasedUnits(const Session& s) const;
    void onSubmitResult(Session& s, const wire::Envelope& e);
    // A result back from ResultIngest (decoded, hashed, measured): judged (ResultJudge), then to
    // GroupCommit; a second result for a unit GroupCommit holds waits in heldBack_.
    void onResultChecked(CheckedResult checked);
    void judgeChecked(CheckedResult checked);
    // A batch whose files are durable: accepted in one store transaction, then each paid and answered.
    void onBatchDurable(std::vector<CommitItem> batch);
    // The judge's answer, and what the outcome means for the runner, the desk and the waterfall.
    wire::ResultAck afterAcceptance(CommitItem& item, const ledger::AcceptResult& accepted);
    void answerResult(const CheckedResult& checked, wire::ResultAck ack);
    // "contributor 7 (Alice's desktop)": the name as the contributor gave it, bounded.
    QString contributorLabel(ledger::ContributorId id) const;
    wire::WorkUnit wireUnit(const ledger::WorkUnit& unit, const JobRunner& runner) const;

    // --- EngineVerification.cpp: results of verifiable jobs replayed (ResultVerifier.h) ----------
    // The result back when it may go on to GroupCommit; nullopt when verification took it: answered
    // (its sender is quarantined) or waiting for its replay on the pool (ReplayQueue), concluded in
    // onReplayed().
    std::optional<CheckedResult> verifyResult(CheckedResult checked, const JobRunner& runner);
    // A replay's turn (ReplayQueue's start): the job's snapshot taken here, the arithmetic on the pool.
    void startReplay(PendingReplay pending);
    void onReplayed(PendingReplay pending, const ResultVerifier::ReplayReport& report);
    // Second results held back while a first one for the same unit was committed or replayed.
    void judgeHeldBack();
    // The contributor gets no more work: its leases are handed back (re-issued to others) at once,
    // and its pending credits (every job's) are revoked; returns those.
    ledger::CreditSweep quarantine(ledger::ContributorId contributor, const QString& why);
    // The job ended: what verifying it cost goes to the log (docs/verification.md); its replay model goes.
    void endVerification(ledger::JobId job);

    // --- EngineRewind.cpp: a caught contributor's unchecked results out of the model (ModelRewind.h)
    // Notes the results of a contributor about to be quarantined that no replay checked (pending
    // credits) in rewindable jobs: a rewind is due there, kept on disk (due.json).
    void noteRewindsDue(ledger::ContributorId contributor);
    bool rewindDue(ledger::JobId job) const { return rewindsDue_.count(job) > 0; }
    // The due rewind on the pool; `units`: the step due (all done), or empty when the plan is done.
    void startRewind(JobRunner& runner, const QList<ledger::WorkUnit>& units);
    void onRewound(ledger::JobId job, const JobRunner* runner, const QList<ledger::WorkUnit>& units,
                   std::optional<RewindOutcome> outcome, const QString& failure, const QString& who);
    // The archive's steps that no rewind can need any more go (RewindArchive::keptFrom).
    void trimRewindArchive(const JobRunner& runner);
    void rewindEvent(ledger::JobId job, const RewindSummary& summary, const QString& who, qint64 to);
    // The job's due rewinds into its archive's due.json (fsynced), so that a restart does them.
    void persistDue(ledger::JobId job);
    // At start-up: an interrupted rewind settled, the due ones read back (RewindArchive.h).
    void restoreDueRewind(const JobRunner& runner);
    // At start-up, once the jobs are open and before they move on: each quarantined contributor's
    // credits still pending (a crash cut its quarantine short) noted as due rewinds, then revoked.
    void settleQuarantines();

    // --- EngineRequesters.cpp ---------------------------------------------------------------------
    void onUploadDataset(Session& s, const wire::Envelope& e);
    void onUploadShard(Session& s, const wire::Envelope& e);
    void onUploadModelSpec(Session& s, const wire::Envelope& e);
    void onCreateJob(Session& s, const wire::Envelope& e);
    void onListJobs(Session& s, const wire::Envelope& e);
    void onControlJob(Session& s, const wire::Envelope& e);
    void onSubscribe(Session& s, const wire::Envelope& e);
    void onUnsubscribe(Session& s, const wire::Envelope& e);
    void onDownloadCheckpoint(Session& s, const wire::Envelope& e);
    void onBalance(Session& s, const wire::Envelope& e);
    void onContributorStats(Session& s, const wire::Envelope& e);
    // --- EngineJobQueries.cpp: read-only questions about a requester's job ------------------------
    void onJobContributors(Session& s, const wire::Envelope& e);
    // The job's dataset, spec, priority and hyperparameters into its JobInfo.
    void describeSettings(const ledger::Job& job, wire::JobInfo& info) const;
    // The requester's own job, or a refusal (NOT_FOUND / PERMISSION_DENIED).
    ledger::Job ownJob(const Session& s, const std::string& jobId) const;

    // --- EngineJobs.cpp ---------------------------------------------------------------------------
    void resumeJobs();
    std::unique_ptr<JobRunner> openRunner(const ledger::Job& job);
    JobRunner* runner(ledger::JobId job) const;
    // Creates the current step's units, or applies the step when all its units are done, as often as
    // that moves the job on; ends the job when its plan is done. Failures fail the job.
    void advance(ledger::JobId job);
    // The step of a job whose units are all done: prepared here, computed (sum, optimizer, state
    // file) on the pool, finished in onStepComputed(); the event loop serves everything else meanwhile.
    void startStep(JobRunner& runner, const QList<ledger::WorkUnit>& units);
    void onStepComputed(ledger::JobId job, const JobRunner* runner, const QList<ledger::WorkUnit>& units,
                        std::optional<StepProduct> product, const QString& failure);
    // V + 1's weights exist while V's state file is written (JobRunner::leasesAhead()): V + 1's units
    // are made and granted now, so that workers compute while the coordinator writes.
    void onStepWeights(ledger::JobId job, const JobRunner* runner, const QByteArray& weights);
    // The state half of a step whose weights went ahead (JobRunner::computeWeights()), started on the
    // pool once onStepWeights() has sent the grants; finished in onStepComputed().
    void writeStepState(ledger::JobId job, const JobRunner* runner, const QList<ledger::WorkUnit>& units,
                        std::shared_ptr<StepWork> work, std::shared_ptr<std::optional<StepProduct>> product);
    // onStepWeights(), then writeStepState() queued behind the grants' own flush.
    void grantAheadThenWriteState(ledger::JobId job, const JobRunner* runner, const QList<ledger::WorkUnit>& units,
                                  std::shared_ptr<StepWork> work, std::shared_ptr<std::optional<StepProduct>> product);
    // The step's last result is checked: V + 1's weights are computed on the pool while the result is
    // written and paid (StepsAhead.h), when the job and the step allow it.
    void takeStepAhead(ledger::JobId job, const StepsAhead::Origin& origin, const JobRunner::LastResult& result);
    // The step taken ahead, its result accepted: its weights granted, its state file written.
    void adoptStepAhead(JobRunner& runner, const QList<ledger::WorkUnit>& units, StepsAhead::Step step);
    void completeJob(JobRunner& runner);
    // A step's MetricsUpdate out to metrics.jsonl and subscribers, with its evaluation if it had one.
    void publishStep(ledger::JobId job, wire::MetricsUpdate update, const std::optional<nn::EvalResult>& eval);
    void failJob(ledger::JobId job, const QString& why);
    void endJob(ledger::JobId job, ledger::JobState finalState, const QString& signalName);
    void retire(ledger::JobId job);
    std::vector<Scheduler::JobSlot> leasableJobs() const;
    // The job's recorded cut (JobConfig::shardsPerUnit); for a job stored before cuts were recorded,
    // the same sizing from the job alone.
    std::int64_t shardsPerUnit(const JobRunner& runner) const;
    // The cut of a job: options_.shardsPerUnit, or sized from its model by `sizing` (UnitSizing.h).
    std::int64_t newJobShardsPerUnit(const nn::Architecture& model, const training::StepPlan& plan,
                                     wire::GradientEncoding encoding, const UnitSizing& sizing) const;
    // The nominal figures sized for the round trips and upload rates measured to the contributors
    // connected now.
    UnitSizing sizingForNewJob() const;
    // A contributor's round trip is measured when it registers, on its first heartbeats, then once a minute.
    void measureRoundTrip(Session& session);
    wire::JobInfo jobInfo(const ledger::Job& job) const;
    void announceState(ledger::JobId job, const QString& message);
    void workersLeft(const QList<ledger::ActiveLease>& leases, const QString& why);

    Coordinator& owner_;
    const CoordinatorOptions& options_;
    QLockFile lock_;
    std::unique_ptr<ledger::CoordinatorStore> store_;
    std::unique_ptr<ledger::Ledger> ledger_;
    std::unique_ptr<ledger::LeaseBook> leases_;
    std::unique_ptr<Scheduler> scheduler_;
    std::unique_ptr<DataLibrary> library_;
    std::unique_ptr<protocol::ProtocolServer> server_;
    std::unique_ptr<Metrics> metrics_;
    std::unique_ptr<BackgroundEvaluations> evaluations_;  // eval_every_steps off the event loop
    Transfers transfers_;
    QTimer ticker_;
    QElapsedTimer sinceTick_;  // a tick far later than its interval means the event loop stalled
    LiveFleet fleet_;           // live contributor sessions and their speed, kept as sessions change
    std::map<ConnectionId, Session> sessions_;
    std::map<ledger::JobId, std::unique_ptr<JobRunner>> runners_;
    PrefetchHints prefetchHints_;
    std::vector<std::unique_ptr<JobRunner>> retired_;  // ended during a handler; freed on the next turn
    std::map<ledger::JobId, QDateTime> stepStarted_;
    StepUnits stepUnits_;                                 // each job's step in progress, read once a step
    std::map<ledger::JobId, StepWaterfall> waterfalls_;  // the step in progress, for metrics.jsonl
    StepsAhead ahead_;                                   // steps taken ahead of their last acceptance
    std::map<ledger::JobId, std::set<ledger::ContributorId>> jobWorkers_;  // for WORKER_JOINED / LEFT
    mutable std::map<ledger::JobId, qint64> totalSteps_;                   // JobInfo of ended jobs
    std::unique_ptr<LeaseDesk> desk_;     // grants, parked requests, hold caps, hand-backs, expiry
    std::unique_ptr<ResultJudge> judge_;  // duplicate / rejected / accepted, and failing units
    std::unique_ptr<ledger::TrustBook> trust_;  // trust and quarantine on disk (schema version 2)
    std::unique_ptr<ResultVerifier> verifier_;  // replays of verifiable results, trust, quarantine
    OutlierStrikes outlierStrikes_;             // fast-mode contributors whose results are outliers too often
    std::unique_ptr<ReplayQueue> replays_;      // which replay runs next on the pool; per-contributor bound
    RateLimiter enrollments_;             // open enrollments per address
    JobBounds bounds_;
    // Result files of applied steps that the next results are written over (SpareFiles.h): filled
    // by sweeper_, taken by the group commits on pool_, emptied when a job retires.
    SpareFiles spares_;
    // Work off the event loop: result checks, group commits, optimizer steps. ~Engine waits for it
    // before anything else goes (a step's state file is then written, the store not told: as a crash).
    QThreadPool pool_;
    // Recycles the result files of an applied step into spares_ (or deletes them), one thread:
    // unlinking a step's hundreds of files on the event loop took a sixth of its time under load
    // (docs/benchmarks.md). A crash before it is done leaves files that the next start removes
    // (resumeJobs).
    QThreadPool sweeper_;
    // Steps taken ahead (StepsAhead.h), one at a time: beside the pool, which writes the very result
    // they wait on (on a coordinator held to one core, the pool has one thread).
    QThreadPool aheadPool_;
    std::unique_ptr<ResultIngest> ingest_;
    std::unique_ptr<GroupCommit> commit_;
    std::vector<CheckedResult> heldBack_;  // second results for units GroupCommit or replays_ hold
    bool resuming_ = false;                // in resumeJobs(): steps are applied synchronously
    // While onStepComputed() holds the transaction that moves a job to its new version, a step that
    // advance() would start (a stale job's next round, all in already) waits for its commit: its state
    // file must not get ahead of a store that a crash can still leave at the old version.
    bool holdStepStarts_ = false;
    bool stepStartHeld_ = false;
    // Rewinds due (ModelRewind.h): the suspect units per job, who sent them, the earliest step.
    struct DueRewind {
        std::set<ledger::WorkUnitId> suspects;
        QList<ledger::ContributorId> contributors;
        qint64 earliestStep = 0;
    };
    std::map<ledger::JobId, DueRewind> rewindsDue_;
    std::map<ledger::JobId, std::set<ledger::WorkUnitId>> rewinding_;  // a rewind runs on the pool: its suspects
};

}  // namespace raven::coordinator
