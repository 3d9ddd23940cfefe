#pragma once
// Engine: the coordinator's parts wired together behind Coordinator (internal to core/coordinator).
//
//   ProtocolServer --messageReceived--> dispatch() --> one handler per request kind:
//     EngineSessions.cpp      Authenticate, RegisterContributor, Heartbeat; connections coming and going
//     EngineContributors.cpp  LeaseRequest, LeaseHandBack, FetchShard/Manifest/Weights, SubmitResult
//     EngineRequesters.cpp    uploads, CreateJob, ListJobs, ControlJob, metrics, checkpoints, credits
//     EngineJobs.cpp          resuming jobs at start-up, stepping them, ending them
//
// Each handler either answers or throws RequestError (answered as Error{code}); dispatch() catches
// everything per message, so a bad request or a failing handler never ends the process or another
// connection. A timer expires leases and hands back the leases of silent workers.
#include <QDateTime>
#include <QLockFile>
#include <QObject>
#include <QTimer>

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "coordinator/Coordinator.h"
#include "coordinator/DataLibrary.h"
#include "coordinator/JobBounds.h"
#include "coordinator/JobRunner.h"
#include "coordinator/Metrics.h"
#include "coordinator/RateLimiter.h"
#include "coordinator/ResultPlausibility.h"
#include "coordinator/Scheduler.h"
#include "coordinator/StepWaterfall.h"
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
        wire::LeaseRequest leaseAsk;  // its latest LeaseRequest: which weights to push with the grant
        std::map<std::string, std::unique_ptr<protocol::ResultAssembler>> results;  // by work unit id
        struct Arrival {
            StepWaterfall::Clock::time_point first;  // its first part
            std::int64_t bytes = 0;
        };
        std::map<std::string, Arrival> arrivals;  // of `results`, for the step's waterfall
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
    bool contributorOnlineElsewhere(const Session& s) const;
    double totalConnectedGflops() const;
    int connectedContributors() const;

    // --- EngineContributors.cpp -------------------------------------------------------------------
    void onLeaseRequest(Session& s, const wire::Envelope& e);
    // Leases what the scheduler gives this worker now, as a LeaseGrant (possibly empty).
    wire::Envelope grantLeases(Session& s, int maxUnits);
    // Parked lease requests (long polling): answered as soon as a step's units appear, units come
    // back, or kParkMs pass, so that idle workers start the next step without polling delay.
    void serveParkedLeases();
    // Idle workers duplicate a leased unit only once its lease is older than this (several typical
    // unit turnarounds), so that a normal step end does not double the work.
    qint64 speculateAfterMs() const;
    void onHandBack(Session& s, const wire::Envelope& e);
    void onFetchShard(Session& s, const wire::Envelope& e);
    void onFetchManifest(Session& s, const wire::Envelope& e);
    void onFetchWeights(Session& s, const wire::Envelope& e);
    // The units this contributor holds a lease on now: what it may fetch content for.
    QList<ledger::WorkUnit> leasedUnits(const Session& s) const;
    void onSubmitResult(Session& s, const wire::Envelope& e);
    wire::ResultAck judgeResult(Session& s, ledger::WorkUnitId unitId, const protocol::WorkResult& result);
    wire::ResultAck rejectResult(Session& s, ledger::WorkUnitId unitId, const QString& reason, bool countAgainst);
    // A unit that kRejectionsBeforeJobFails different contributors failed (rejected results, or
    // "could not compute" hand-backs) fails its job: the unit is at fault, not they.
    void noteUnitFailure(const ledger::WorkUnit& unit, ledger::ContributorId contributor, const QString& how,
                         const QString& reason);
    // "contributor 7 (Alice's desktop)": the name as the contributor gave it, bounded.
    QString contributorLabel(ledger::ContributorId id) const;
    wire::WorkUnit wireUnit(const ledger::WorkUnit& unit, const JobRunner& runner) const;

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
    void stepOnce(JobRunner& runner, const QList<ledger::WorkUnit>& units);
    void completeJob(JobRunner& runner);
    void failJob(ledger::JobId job, const QString& why);
    void endJob(ledger::JobId job, ledger::JobState finalState, const QString& signalName);
    void retire(ledger::JobId job);
    std::vector<Scheduler::JobSlot> leasableJobs() const;
    // The job's recorded cut (JobConfig::shardsPerUnit); for a job stored before cuts were recorded,
    // the same sizing from the job alone.
    std::int64_t shardsPerUnit(const JobRunner& runner) const;
    // The cut of a new job: options_.shardsPerUnit, or sized from its model (UnitSizing.h).
    std::int64_t newJobShardsPerUnit(const nn::Architecture& model, const training::StepPlan& plan,
                                     wire::GradientEncoding encoding) const;
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
    Transfers transfers_;
    QTimer ticker_;
    std::map<ConnectionId, Session> sessions_;
    std::map<ledger::JobId, std::unique_ptr<JobRunner>> runners_;
    std::vector<std::unique_ptr<JobRunner>> retired_;  // ended during a handler; freed on the next turn
    std::map<ledger::JobId, QDateTime> stepStarted_;
    std::map<ledger::JobId, StepWaterfall> waterfalls_;  // the step in progress, for metrics.jsonl
    std::map<ledger::JobId, std::set<ledger::ContributorId>> jobWorkers_;  // for WORKER_JOINED / LEFT
    mutable std::map<ledger::JobId, qint64> totalSteps_;                   // JobInfo of ended jobs
    struct ParkedLease {
        ConnectionId connection = 0;
        std::uint64_t requestId = 0;
        int maxUnits = 1;
        QDateTime until;
    };
    std::vector<ParkedLease> parked_;
    std::map<ledger::JobId, ResultPlausibility> plausibility_;                 // per job, from its accepted results
    RateLimiter enrollments_;                                                  // open enrollments per address
    std::map<ledger::ContributorId, std::deque<QDateTime>> recentlyAccepted_;  // lease caps from delivery
    std::map<ledger::WorkUnitId, std::set<ledger::ContributorId>> unitRejections_;  // who failed each unit
    JobBounds bounds_;
    double turnaroundMs_ = 0.0;  // moving average of lease-to-result time of accepted units
};

}  // namespace raven::coordinator
